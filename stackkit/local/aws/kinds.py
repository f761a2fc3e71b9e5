"""The stand-in's table of the resource types it implements: the shape of the ids and ARNs AWS gives them, and the
property pulumi-aws auto-names. What replaces a resource is AWS's fact, not the stand-in's: stackkit.aws.replacement.

Auto-naming (pulumi-aws): a resource whose name property is not set gets `<logical name>-<7 random hex>`; Check keeps
the previous name when there is one, and the engine re-runs Check without it when the resource is replaced, so a
replacement gets a new name (which replaces whatever references the name with ForceNew: a new key pair's name
replaces every instance). Names longer than the AWS limit are cut before the suffix.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True)
class TypeInfo:
    id_prefix: str  # AWS id shape: vpc-0123…, or "" for name-keyed resources
    autoname: str | None = None  # the property pulumi-aws auto-names
    autoname_max: int = 255
    arn: str | None = None  # ARN template: {region} {account} {id} {name}
    id_from: str | None = None  # the id is this (auto-named) property, as IAM and RDS do


TYPES: dict[str, TypeInfo] = {
    "aws:ec2/vpc:Vpc": TypeInfo(id_prefix="vpc", arn="arn:aws:ec2:{region}:{account}:vpc/{id}"),
    "aws:ec2/internetGateway:InternetGateway": TypeInfo(
        id_prefix="igw", arn="arn:aws:ec2:{region}:{account}:internet-gateway/{id}"
    ),
    "aws:ec2/routeTable:RouteTable": TypeInfo(id_prefix="rtb", arn="arn:aws:ec2:{region}:{account}:route-table/{id}"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": TypeInfo(id_prefix="rtbassoc"),
    "aws:ec2/natGateway:NatGateway": TypeInfo(id_prefix="nat", arn="arn:aws:ec2:{region}:{account}:natgateway/{id}"),
    "aws:ec2/subnet:Subnet": TypeInfo(id_prefix="subnet", arn="arn:aws:ec2:{region}:{account}:subnet/{id}"),
    "aws:ec2/securityGroup:SecurityGroup": TypeInfo(
        id_prefix="sg", autoname="name", arn="arn:aws:ec2:{region}:{account}:security-group/{id}"
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": TypeInfo(
        id_prefix="sgr", arn="arn:aws:ec2:{region}:{account}:security-group-rule/{id}"
    ),
    "aws:ec2/keyPair:KeyPair": TypeInfo(
        id_prefix="key", autoname="keyName", arn="arn:aws:ec2:{region}:{account}:key-pair/{name}"
    ),
    "aws:iam/role:Role": TypeInfo(
        id_prefix="", autoname="name", autoname_max=64, id_from="name", arn="arn:aws:iam::{account}:role/{name}"
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": TypeInfo(id_prefix=""),
    "aws:iam/instanceProfile:InstanceProfile": TypeInfo(
        id_prefix="", autoname="name", autoname_max=128, id_from="name", arn="arn:aws:iam::{account}:instance-profile/{name}"
    ),
    "aws:ec2/eip:Eip": TypeInfo(id_prefix="eipalloc"),
    "aws:ec2/eipAssociation:EipAssociation": TypeInfo(id_prefix="eipassoc"),
    "aws:ebs/volume:Volume": TypeInfo(id_prefix="vol", arn="arn:aws:ec2:{region}:{account}:volume/{id}"),
    "aws:ec2/volumeAttachment:VolumeAttachment": TypeInfo(id_prefix="vai"),
    "aws:ec2/instance:Instance": TypeInfo(id_prefix="i", arn="arn:aws:ec2:{region}:{account}:instance/{id}"),
    "aws:lb/loadBalancer:LoadBalancer": TypeInfo(
        id_prefix="",
        autoname="name",
        autoname_max=32,
        arn="arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{hex}",
    ),
    "aws:lb/targetGroup:TargetGroup": TypeInfo(
        id_prefix="",
        autoname="name",
        autoname_max=32,
        arn="arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{hex}",
    ),
    "aws:lb/listener:Listener": TypeInfo(
        id_prefix="", arn="arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{hex}/{hex2}"
    ),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": TypeInfo(id_prefix=""),
    "aws:rds/subnetGroup:SubnetGroup": TypeInfo(
        id_prefix="", autoname="name", id_from="name", arn="arn:aws:rds:{region}:{account}:subgrp:{name}"
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": TypeInfo(
        id_prefix="", autoname="name", autoname_max=255, id_from="name", arn="arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
    ),
    "aws:cloudwatch/logGroup:LogGroup": TypeInfo(
        id_prefix="", autoname="name", autoname_max=512, id_from="name", arn="arn:aws:logs:{region}:{account}:log-group:{name}"
    ),
    "aws:iam/rolePolicy:RolePolicy": TypeInfo(id_prefix="", autoname="name", autoname_max=128),
    "aws:lambda/function:Function": TypeInfo(
        id_prefix="", autoname="name", autoname_max=64, id_from="name", arn="arn:aws:lambda:{region}:{account}:function:{name}"
    ),
    "aws:lambda/permission:Permission": TypeInfo(id_prefix=""),
    "aws:lambda/invocation:Invocation": TypeInfo(id_prefix=""),
    "aws:scheduler/scheduleGroup:ScheduleGroup": TypeInfo(
        id_prefix="",
        autoname="name",
        autoname_max=64,
        id_from="name",
        arn="arn:aws:scheduler:{region}:{account}:schedule-group/{name}",
    ),
    "aws:scheduler/schedule:Schedule": TypeInfo(id_prefix="", autoname="name", autoname_max=64, id_from="name"),
    "aws:rds/instance:Instance": TypeInfo(
        id_prefix="db", autoname="identifier", autoname_max=63, arn="arn:aws:rds:{region}:{account}:db:{name}"
    ),
}


def aws_version() -> str:
    """The pulumi-aws version the program's SDK asks for: the stand-in is installed as that plugin version."""
    return metadata.version("pulumi_aws")
