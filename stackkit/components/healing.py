"""Auto healing (OpsWorks' EnableAutoHealing, per layer): two CloudWatch alarms per instance, children of its Instance.

- `StatusCheckFailed_System` (AWS's side: hardware, host, network) -> EC2's recover action: the instance moves to new
  hardware and keeps its id, private IP, Elastic IP, EBS volumes and metadata;
- `StatusCheckFailed_Instance` (the machine itself: kernel, network config, exhausted memory) -> reboot.

Values as AWS documents them: EC2 User Guide, "Recover your instance" (CloudWatch action based recovery) and CloudWatch
User Guide, "Create alarms to stop, terminate, reboot, or recover an EC2 instance": namespace AWS/EC2, dimension
InstanceId, period 60 s, threshold 1, GreaterThanOrEqualToThreshold; 2 periods for the system check, 3 for the instance
check; actions arn:aws:automate:<region>:ec2:recover and ...:ec2:reboot.

Nothing here is an input of a lifecycle command: a recovered or rebooted instance is the same member of the cluster
(docs/lifecycle.md, "Auto healing"), so no script runs when an alarm is added, changed, removed or fires.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PERIOD = 60


@dataclass(frozen=True)
class Check:
    suffix: str              # the alarm's name: <stack>-<instance>-<suffix>
    metric: str
    statistic: str
    periods: int
    action: str              # EC2's automate action
    what: str                # for the description


SYSTEM = Check("recover", "StatusCheckFailed_System", "Maximum", 2, "recover",
               "recovers it on new hardware when EC2's system status check fails")
INSTANCE = Check("reboot", "StatusCheckFailed_Instance", "Minimum", 3, "reboot",
                 "reboots it when its instance status check fails")


@dataclass(frozen=True)
class Healing:
    """What the Instance component needs to add the alarms: all plain values from the validated config."""

    prefix: str                      # <stack name>-<instance name>: alarm names are unique per account and region
    region: str
    recover: bool                    # False: the type has instance store volumes, EC2 cannot recover it
    topic_arn: str | None = None     # stack.notifications.topic_arn


def automate_arn(region: str, action: str) -> str:
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:automate:{region}:ec2:{action}"


def add_alarms(name: str, instance_id: pulumi.Input[str], healing: Healing, tags: dict[str, str],
               parent: pulumi.Resource) -> list[aws.cloudwatch.MetricAlarm]:
    checks = [SYSTEM, INSTANCE] if healing.recover else [INSTANCE]
    if not healing.recover:
        pulumi.log.warn(f"{name}: its instance type has instance store volumes, which EC2 cannot recover: it gets "
                        "the reboot alarm only (EC2 User Guide, \"Recover your instance\")", resource=parent)
    notify = [healing.topic_arn] if healing.topic_arn else []
    return [aws.cloudwatch.MetricAlarm(
        f"{name}-{c.suffix}",
        name=f"{healing.prefix}-{c.suffix}",
        alarm_description=f"stackkit, instance {name}: {c.what} for {c.periods} minutes",
        namespace="AWS/EC2", metric_name=c.metric, dimensions={"InstanceId": instance_id},
        statistic=c.statistic, period=PERIOD, evaluation_periods=c.periods, threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        alarm_actions=[automate_arn(healing.region, c.action), *notify], ok_actions=notify,
        tags={**tags, "Name": f"{healing.prefix}-{c.suffix}"},
        opts=pulumi.ResourceOptions(parent=parent)) for c in checks]
