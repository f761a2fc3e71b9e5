"""stackkit:index:Wake — time- and load-based instances during `pulumi up`: a stopped one is started before its
lifecycle scripts run and put back after them.

A schedule or the scaling function may have stopped an instance when an `up` must run a script on it (a new revision,
a configure, a users change). pulumi-command cannot reach a stopped machine, so each time- or load-based instance gets
two synchronous invocations of the function below (`aws.lambda_.Invocation`, children of its Instance), both
re-invoked exactly when one of the instance's lifecycle commands changes (their trigger is a digest of every command
input of the instance):

    <i>-wake   (before its scripts)  stopped -> tag stackkit:woken, start, wait until running; running -> nothing
    <i>-settle (after its scripts)   woken -> untag, and stop it again unless its schedule wants it on now

The function is the scaling function's code (stackkit/scaling, handler `scaling.aws.lifecycle_handler`) deployed a
second time without reserved concurrency, so that the wakes of several instances in one up run side by side; it may
start, stop and tag (stackkit:woken only) exactly the stack's time- and load-based instances. The zone files of the
schedules' time zones travel in its code (scaling/zones/<zone>, from the pinned tzdata package): the settle decision
never depends on the runtime's time zone database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from stackkit.aws import policies

CODE = Path(__file__).resolve().parents[1] / "scaling"
CODE_FILES = ("__init__.py", "decide.py", "aws.py")    # packaged as the top-level package `scaling`
LOG_DAYS = 30
TIMEOUT = 300          # a start and the wait until running (EC2's waiter: 5 s x 54)


def code_archive(zones: Sequence[str] = ()) -> pulumi.AssetArchive:
    """stackkit/scaling's modules, file by file (a folder archive would take __pycache__ along, and its hash with
    it), and the TZif file of each time zone a schedule uses, from the pinned tzdata package."""
    assets: dict[str, Any] = {f"scaling/{f}": pulumi.FileAsset(str(CODE / f)) for f in CODE_FILES}
    for zone in sorted(set(zones)):
        source = resources.files("tzdata").joinpath("zoneinfo", *zone.split("/"))
        assets[f"scaling/zones/{zone}"] = pulumi.FileAsset(str(source))
    return pulumi.AssetArchive(assets)


def digest(inputs: Sequence[Any]) -> str:
    """A stable digest of an instance's command inputs (the invocations' trigger): sha256 of their JSON."""
    return hashlib.sha256(json.dumps(list(inputs), sort_keys=True, default=str).encode()).hexdigest()


def lambda_trust() -> str:
    """The execution role's trust: the Lambda service."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


class Wake(pulumi.ComponentResource):
    function: aws.lambda_.Function

    def __init__(self, stack: str, zones: Sequence[str], tags: dict[str, str], region: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stackkit:index:Wake", stack, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        fname = f"{stack}-wake"
        self.log_group = aws.cloudwatch.LogGroup(fname, name=f"/aws/lambda/{fname}", retention_in_days=LOG_DAYS,
                                                 tags=tags, opts=child)
        self.role = aws.iam.Role(fname, assume_role_policy=lambda_trust(),
                                 description="stackkit: starts stopped time- and load-based instances for pulumi up",
                                 tags=tags, opts=child)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.policy = aws.iam.RolePolicy(
            fname, role=self.role.name,
            policy=account.apply(lambda a: policies.text(policies.wake(policies.Account(stack, region, a), fname))),
            opts=child)
        self.function = aws.lambda_.Function(
            fname, name=fname, runtime="python3.12", handler="scaling.aws.lifecycle_handler",
            code=code_archive(zones), role=self.role.arn, timeout=TIMEOUT, memory_size=128,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            description="stackkit: wakes a stopped time- or load-based instance for pulumi up, and settles it after",
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy]))
        self.register_outputs({"function": self.function.name})

    def invocation(self, name: str, payload: pulumi.Input[dict[str, Any]], trigger: pulumi.Input[str],
                   parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource]) -> aws.lambda_.Invocation:
        """One synchronous invocation, re-invoked (replaced) whenever `trigger` changes."""
        return aws.lambda_.Invocation(
            name, function_name=self.function.name,
            input=pulumi.Output.from_input(payload).apply(lambda p: json.dumps(p, sort_keys=True)),
            triggers={"commands": trigger},
            opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)))
