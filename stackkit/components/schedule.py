"""stackkit:index:Schedules — the time-based instances' weekly starts and stops (OpsWorks' time-based instances), with
EventBridge Scheduler: one schedule group per stack, one schedule per (instance, action, hour) over the days it fires,
each calling EC2 through the scheduler's universal target (`arn:aws:scheduler:::aws-sdk:ec2:startInstances` /
`stopInstances`) with the role below, which may start and stop the stack's instances tagged time-based (stackkit.aws.policies).

Values as AWS documents them: EventBridge Scheduler User Guide, "Using universal targets" (the aws-sdk target ARN
and the API's request as the target's JSON input), "Schedule types" (cron(minutes hours day-of-month month
day-of-week year), ScheduleExpressionTimezone, FlexibleTimeWindow OFF) and "Set up the execution role" (trust
scheduler.amazonaws.com, limited to the account by aws:SourceAccount).

Nothing here is an input of a lifecycle command: a stopped instance keeps its private IP and stays in the cluster
state, so a start or a stop changes no config and runs no script (docs/concepts.md, "Time- and load-based instances").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stackkit.aws import policies
from stackkit.config.schedule import TARGETS, Schedule


@dataclass(frozen=True)
class Timed:
    schedule: Schedule
    instance_id: pulumi.Input[str]


def _trust(account: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]})


class Schedules(pulumi.ComponentResource):
    def __init__(self, stack: str, timed: dict[str, Timed], tags: dict[str, str], region: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stackkit:index:Schedules", stack, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.group = aws.scheduler.ScheduleGroup(f"{stack}-schedules", name=stack, tags=tags, opts=child)
        self.role = aws.iam.Role(f"{stack}-scheduler", assume_role_policy=account.apply(_trust),
                                 description="stackkit: EventBridge Scheduler starts and stops the time-based instances",
                                 tags=tags, opts=child)
        self.policy = aws.iam.RolePolicy(
            f"{stack}-scheduler", role=self.role.name,
            policy=account.apply(lambda a: policies.text(policies.scheduler(policies.Account(stack, region, a)))),
            opts=child)
        self.schedules: dict[str, aws.scheduler.Schedule] = {}
        for iname, t in sorted(timed.items()):
            for tr in t.schedule.transitions():
                name = f"{iname}-{tr.name}"
                self.schedules[name] = aws.scheduler.Schedule(
                    f"{stack}-{name}", name=name, group_name=self.group.name,
                    description=t.schedule.description(iname, tr.action),
                    schedule_expression=tr.cron, schedule_expression_timezone=t.schedule.timezone,
                    flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                    state="ENABLED",
                    target=aws.scheduler.ScheduleTargetArgs(
                        arn=TARGETS[tr.action], role_arn=self.role.arn,
                        input=pulumi.Output.from_input(t.instance_id).apply(
                            lambda i: json.dumps({"InstanceIds": [i]})),
                        retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=5,
                                                                                 maximum_event_age_in_seconds=3600)),
                    # the role must be able to act before the first schedule fires
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]))
        self.register_outputs({"group": self.group.name, "schedules": sorted(self.schedules)})
