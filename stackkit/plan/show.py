"""Printing a plan as a component tree with each resource's key settings."""

from __future__ import annotations

from typing import Any

from stackkit.config.attributes import lookup
from stackkit.plan.evaluate import Plan, Resource

KEYS: dict[str, tuple[str, ...]] = {
    "aws:ec2/instance:Instance": ("instanceType", "ami", "metadataOptions.httpTokens", "rootBlockDevice.encrypted"),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "mapPublicIpOnLaunch"),
    "aws:ec2/securityGroup:SecurityGroup": ("description",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("ipProtocol", "fromPort", "toPort", "cidrIpv4",
                                                                  "referencedSecurityGroupId"),
    "aws:ebs/volume:Volume": ("size", "type", "encrypted", "availabilityZone"),
    "aws:ec2/volumeAttachment:VolumeAttachment": ("deviceName",),
    "aws:rds/instance:Instance": ("engine", "engineVersion", "instanceClass", "storageEncrypted", "publiclyAccessible",
                                  "deletionProtection", "multiAz"),
    "aws:lb/loadBalancer:LoadBalancer": ("loadBalancerType", "internal"),
    "aws:lb/listener:Listener": ("port", "protocol"),
    "aws:lb/targetGroup:TargetGroup": ("port", "protocol", "healthCheck.path"),
    "command:remote:Command": ("create", "delete", "triggers"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("metricName", "threshold", "evaluationPeriods", "alarmActions"),
    "aws:scheduler/schedule:Schedule": ("scheduleExpression", "scheduleExpressionTimezone", "target.arn"),
    "aws:lambda/function:Function": ("runtime", "handler", "reservedConcurrentExecutions"),
}


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        value = int(value)          # the wire format carries every number as a float: port=80, not 80.0
    text = str(value)
    if len(text) > 24 and all(c in "0123456789abcdef" for c in text):
        return text[:12] + "…"
    return text if len(text) <= 60 else text[:57] + "…"


def summary(r: Resource) -> str:
    parts = []
    for key in KEYS.get(r.type, ()):
        value = lookup(r.inputs, key)
        if value not in (None, "", []):
            parts.append(f"{key.split('.')[-1]}={_fmt(value)}")
    if r.type == "command:remote:Command" and "stdin" in r.inputs:
        stdin = r.inputs["stdin"]
        parts.append("stdin=[secret]" if stdin == "[secret]" else f"stdin={len(stdin)} bytes")
    flags = [f for f in ("protect", "deleteBeforeReplace") if r.options.get(f)]
    if r.options.get("deletedWith"):
        flags.append("deletedWith=" + r.options["deletedWith"].split("::")[-1])
    return " ".join(parts + [f"[{f}]" for f in flags])


def tree(plan: Plan) -> str:
    children: dict[str, list[Resource]] = {}
    for r in plan.resources:
        children.setdefault(r.parent, []).append(r)
    root_parent = next((r.parent for r in plan.resources if r.type == "stackkit:index:Stack"), "")
    lines = [f"stack {plan.stack} (project {plan.project}): {len(plan.resources)} resources"]

    def walk(parent: str, depth: int) -> None:
        for r in children.get(parent, []):
            label = f"{'  ' * depth}{r.type.split(':')[-1] if r.type.startswith('stackkit:') else r.type} {r.name}"
            s = summary(r)
            lines.append(f"{label}  {s}" if s else label)
            walk(r.urn, depth + 1)

    walk(root_parent, 1)
    return "\n".join(lines)
