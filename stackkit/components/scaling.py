"""stackkit:index:Scaling — load-based instances (OpsWorks' load-based automatic scaling): per load-based layer two
CloudWatch alarms on the layer's average CPU, and one function per stack (stackkit/scaling, deployed as a Lambda)
that the alarms invoke directly to start or stop the layer's load-based instances.

- The average: a metric math alarm, `AVG(METRICS())` over `AWS/EC2 CPUUtilization` of each instance of the layer
  (24/7 and load-based; a stopped one reports nothing and so does not count), 1-minute periods (the layer's instances
  get EC2 detailed monitoring), at most 10 metrics (CloudWatch's hard limit; the config refuses more).
- Up: above `up.cpu` for `up.minutes`; down: below `down.cpu` for `down.minutes`. Missing data keeps the state.
- The function (Python 3.12, 128 MB, 30 s) runs at most one invocation at a time (reserved concurrency 1): two alarms
  at once are handled one after the other, and the second sees the first's change (`ignore_minutes`). After each
  invocation it sets its alarm back to OK, so CloudWatch, which acts only on a change of state, invokes it again while
  the load stays high (or low) and it can add (or remove) the next instance once `ignore_minutes` have passed.
- Its role may describe instances (EC2 has no resource-level permission for that), start, stop and tag
  (`stackkit:scaled_at` only) exactly the stack's load-based instances, reset exactly its alarms, and write its own
  log group. CloudWatch may invoke it only from these alarms (a resource policy per alarm).

Values as AWS documents them: CloudWatch User Guide, "Lambda alarm actions" (principal
lambda.alarms.cloudwatch.amazonaws.com, the alarm's ARN as source), "Create an alarm based on a metric math
expression", EC2 "Enable or turn off detailed monitoring"; Lambda Developer Guide, "Configuring reserved concurrency".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from stackkit.aws import policies
from stackkit.components.wake import LOG_DAYS, code_archive, lambda_trust
from stackkit.config.load_based import DIRECTIONS, LoadBased, alarm_name

PERIOD = 60
OPERATORS = {"up": "GreaterThanThreshold", "down": "LessThanThreshold"}


@dataclass(frozen=True)
class ScaledLayer:
    settings: LoadBased
    instance_ids: list[pulumi.Input[str]]          # every instance of the layer: the average is over all of them


def _metrics(instance_ids: list[pulumi.Input[str]]) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    queries = [aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=f"m{i}", return_data=False,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/EC2", metric_name="CPUUtilization", dimensions={"InstanceId": iid}, period=PERIOD,
            stat="Average"))
        for i, iid in enumerate(instance_ids)]
    return [*queries, aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id="layer", expression="AVG(METRICS())", label="the layer's average CPUUtilization", return_data=True)]


class Scaling(pulumi.ComponentResource):
    def __init__(self, stack: str, settings: dict[str, Any], layers: dict[str, ScaledLayer], tags: dict[str, str],
                 region: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stackkit:index:Scaling", stack, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        fname = f"{stack}-scaler"
        self.log_group = aws.cloudwatch.LogGroup(f"{stack}-scaler", name=f"/aws/lambda/{fname}",
                                                 retention_in_days=LOG_DAYS, tags=tags, opts=child)
        self.role = aws.iam.Role(f"{stack}-scaler", assume_role_policy=lambda_trust(),
                                 description="stackkit: the scaling function starts and stops load-based instances",
                                 tags=tags, opts=child)
        self.function = aws.lambda_.Function(
            f"{stack}-scaler", name=fname, runtime="python3.12", handler="scaling.aws.handler",
            code=code_archive(), role=self.role.arn, timeout=30, memory_size=128,
            reserved_concurrent_executions=1,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"STACKKIT_SCALING": json.dumps(settings,
                                                                                                     sort_keys=True)}),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            description="stackkit: starts and stops the load-based instances when their layer's CPU alarms fire",
            tags=tags, opts=child)
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for lname, layer in sorted(layers.items()):
            for direction in DIRECTIONS:
                t = getattr(layer.settings, direction)
                name = alarm_name(stack, lname, direction)
                verb = "starts" if direction == "up" else "stops"
                alarm = aws.cloudwatch.MetricAlarm(
                    name, name=name,
                    alarm_description=(f"stackkit, layer {lname}: average CPU {'above' if direction == 'up' else 'below'}"
                                       f" {t.cpu:g}% for {t.minutes} minutes {verb} {t.instances} load-based "
                                       f"instance(s)"),
                    metric_queries=_metrics(layer.instance_ids), threshold=t.cpu,
                    comparison_operator=OPERATORS[direction], evaluation_periods=t.minutes,
                    datapoints_to_alarm=t.minutes, treat_missing_data="missing",
                    alarm_actions=[self.function.arn], tags={**tags, "Name": name}, opts=child)
                aws.lambda_.Permission(name, action="lambda:InvokeFunction", function=self.function.name,
                                       principal="lambda.alarms.cloudwatch.amazonaws.com", source_arn=alarm.arn,
                                       opts=child)
                self.alarms[name] = alarm
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.policy = aws.iam.RolePolicy(
            f"{stack}-scaler", role=self.role.name,
            policy=account.apply(lambda a: policies.text(policies.scaler(policies.Account(stack, region, a), fname))),
            opts=child)
        self.register_outputs({"function": self.function.name, "alarms": sorted(self.alarms)})
