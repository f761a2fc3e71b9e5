"""The local cloud's stand-in for pulumi-aws: a provider plugin the real Pulumi engine loads as `aws`.

pulumi-aws's own provider cannot be built here (its go.mod replaces terraform-provider-aws with a local submodule), so
the engine talks to this one on a local stack: the same resource types and invokes the program uses, pulumi-aws's
replacement rules (AWS's facts: stackkit.aws.replacement), AWS's input rules (validation.py), and what the local
cloud's instances are (cloud.py: machines, records-only hosts, or records). It is installed only in the local cloud's
own plugin cache (stackkit.local.stack); against AWS, Pulumi uses the real pulumi-aws.
"""
