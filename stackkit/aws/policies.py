"""The IAM inline policies of the stack's roles (the scheduler, the scaling function, the wake function) as pure
documents: which instances a role may start and stop is said by tag conditions on the stack's instances, never by
listing each instance's ARN, so a policy keeps its size however many instances the stack has.

IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): "Role policy size: ... the total aggregate policy size (the sum
size of all inline policies) per role cannot exceed 10,240 characters", and "IAM does not count white space when
calculating the size of a policy against this limit". Each role here has one inline policy; `size` counts as IAM does.
EC2 authorizes StartInstances, StopInstances and CreateTags on `aws:ResourceTag/<key>` (Service Authorization
Reference, Amazon EC2: condition keys of the instance resource); ARNs are built per partition (stackkit.config.
aws_rules.partition).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stackkit.config.aws_rules import partition

INLINE_POLICY_MAX = 10_240
# the tags that mark an instance of the stack whose power a role may change (stackkit.components.stack sets them)
STACK_TAG = "stackkit:stack"
TIME_BASED_TAG = "stackkit:time_based"       # "true" on a time-based instance
LOAD_BASED_TAG = "stackkit:load_based"       # the layer whose alarms start and stop a load-based instance
Policy = dict[str, Any]


@dataclass(frozen=True)
class Account:
    """Where the roles act: the stack's name, region and account."""

    stack: str
    region: str
    account: str

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{partition(self.region)}:{service}:{self.region}:{self.account}:{resource}"

    @property
    def instances(self) -> str:
        return self.arn("ec2", "instance/*")

    def marked(self, tag: str) -> dict[str, Any]:
        """The condition: an instance of this stack that carries `tag`."""
        return {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": self.stack},
                "Null": {f"aws:ResourceTag/{tag}": "false"}}

    def log_group(self, function: str) -> str:
        return self.arn("logs", f"log-group:/aws/lambda/{function}:*")


def _power(sid: str, where: Account, tag: str) -> Policy:
    return {"Sid": sid, "Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": where.instances, "Condition": where.marked(tag)}


def _tagging(sid: str, where: Account, tag: str, key: str, actions: list[str]) -> Policy:
    return {"Sid": sid, "Effect": "Allow", "Action": actions if len(actions) > 1 else actions[0],
            "Resource": where.instances,
            "Condition": {**where.marked(tag), "ForAllValues:StringEquals": {"aws:TagKeys": [key]}}}


def _log(where: Account, function: str) -> Policy:
    return {"Sid": "WriteItsLog", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": where.log_group(function)}


def scheduler(where: Account) -> Policy:
    return {"Version": "2012-10-17", "Statement": [
        _power("StartStopTheStacksTimeBasedInstances", where, TIME_BASED_TAG)]}


def scaler(where: Account, function: str) -> Policy:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "FindTheLayersInstances", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
        _power("StartAndStopTheLoadBasedInstances", where, LOAD_BASED_TAG),
        _tagging("MarkWhenScaled", where, LOAD_BASED_TAG, "stackkit:scaled_at", ["ec2:CreateTags"]),
        {"Sid": "ResetItsAlarms", "Effect": "Allow", "Action": "cloudwatch:SetAlarmState",
         "Resource": where.arn("cloudwatch", f"alarm:{where.stack}-*-scale-*")},
        _log(where, function),
    ]}


def wake(where: Account, function: str) -> Policy:
    statements = [{"Sid": "ReadInstanceState", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}]
    for kind, tag in (("TimeBased", TIME_BASED_TAG), ("LoadBased", LOAD_BASED_TAG)):
        statements += [_power(f"StartAndStopThe{kind}Instances", where, tag),
                       _tagging(f"MarkWoken{kind}", where, tag, "stackkit:woken", ["ec2:CreateTags", "ec2:DeleteTags"])]
    return {"Version": "2012-10-17", "Statement": [*statements, _log(where, function)]}


def text(policy: Policy) -> str:
    return json.dumps(policy)


def size(policy: Policy) -> int:
    """The policy's size as IAM counts it: its JSON without white space."""
    return len(json.dumps(policy, separators=(",", ":")))
