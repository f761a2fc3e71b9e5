"""stackkit: OpsWorks Stacks rebuilt on Pulumi."""
