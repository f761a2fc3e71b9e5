"""The one table of the stand-in: every resource type the program uses, the input properties whose change REPLACES the
resource in pulumi-aws, the auto-named property, and the shape of the ids it gets.

Replacement follows pulumi-aws 7.x, which bridges terraform-provider-aws v6: a property replaces when the Terraform
schema marks it `ForceNew: true` (SDKv2 resources) or gives it a `RequiresReplace()` plan modifier (framework
resources). Sources, in hashicorp/terraform-provider-aws `internal/service/`:

  ec2/vpc_.go                          aws_vpc                  cidr_block, instance_tenancy
  ec2/vpc_internet_gateway.go          aws_internet_gateway     (vpc_id is attach/detach: an update)
  ec2/vpc_route_table.go               aws_route_table          vpc_id
  ec2/vpc_route_table_association.go   aws_route_table_association  subnet_id, gateway_id (route_table_id: update)
  ec2/vpc_nat_gateway.go               aws_nat_gateway          allocation_id, connectivity_type, private_ip,
                                       secondary_private_ip_address_count, subnet_id (secondary_allocation_ids and
                                       secondary_private_ip_addresses: update)
  ec2/vpc_subnet.go                    aws_subnet               vpc_id, cidr_block, availability_zone
  ec2/vpc_security_group.go            aws_security_group       name, name_prefix, description, vpc_id
  ec2/vpc_security_group_ingress_rule.go  aws_vpc_security_group_ingress_rule  security_group_id (RequiresReplace);
                                       ModifyPlan replaces when the source kind changes
                                       (cidr_ipv4 <-> referenced_security_group_id)
  ec2/ec2_key_pair.go                  aws_key_pair             key_name, key_name_prefix, public_key
  iam/role.go                          aws_iam_role             name, name_prefix, path
  iam/role_policy_attachment.go        aws_iam_role_policy_attachment  role, policy_arn
  iam/instance_profile.go              aws_iam_instance_profile name, name_prefix, path
  ec2/ec2_eip.go                       aws_eip                  domain (vpc), network_border_group, public_ipv4_pool
  ec2/ec2_eip_association.go           aws_eip_association      every argument
  ec2/ebs_volume.go                    aws_ebs_volume           availability_zone, encrypted, kms_key_id, snapshot_id
  ec2/ec2_volume_attachment.go         aws_volume_attachment    device_name, instance_id, volume_id
  ec2/ec2_instance.go                  aws_instance             ami, availability_zone, subnet_id, key_name,
                                       associate_public_ip_address, private_ip, root_block_device.encrypted;
                                       instance_type only across CPU architectures (ForceNewIf; else stop/modify/start);
                                       user_data only with user_data_replace_on_change (default false: update)
  elbv2/load_balancer.go               aws_lb                   name, name_prefix, internal, load_balancer_type
  elbv2/target_group.go                aws_lb_target_group      name, name_prefix, port, protocol, target_type, vpc_id
  elbv2/listener.go                    aws_lb_listener          load_balancer_arn
  elbv2/target_group_attachment.go     aws_lb_target_group_attachment  every argument
  rds/subnet_group.go                  aws_db_subnet_group      name, name_prefix
  rds/instance.go                      aws_db_instance          engine, username, db_name, storage_encrypted,
                                       kms_key_id, availability_zone, character_set_name, timezone (identifier: a
                                       rename in place, NewDBInstanceIdentifier)
  cloudwatch/metric_alarm.go           aws_cloudwatch_metric_alarm  alarm_name (the id; every other argument is
                                       sent again with PutMetricAlarm: an update)
  logs/group.go                        aws_cloudwatch_log_group name, name_prefix
  iam/role_policy.go                   aws_iam_role_policy      name, name_prefix, role
  lambda/function.go                   aws_lambda_function      function_name, package_type
  lambda/permission.go                 aws_lambda_permission    every argument
  lambda/invocation.go                 aws_lambda_invocation    function_name, input, qualifier, triggers (a change
                                       re-invokes: CREATE_ONLY invokes on create and replacement only)
  scheduler/schedule_group.go          aws_scheduler_schedule_group  name, name_prefix
  scheduler/schedule.go                aws_scheduler_schedule   name, name_prefix, group_name

Read at terraform-provider-aws main of 2026-06-02 (the v6 line, 6.48.0 unreleased); tags never replace.

Auto-naming (pulumi-aws): a resource whose name property is not set gets `<logical name>-<7 random hex>`; Check keeps
the previous name when there is one, and the engine re-runs Check without it when the resource is replaced, so a
replacement gets a new name (which replaces whatever references the name with ForceNew: a new key pair's name
replaces every instance). Names longer than the AWS limit are cut before the suffix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()   # a value not known until apply (a replaced dependency's new id or address)


@dataclass(frozen=True)
class TypeInfo:
    id_prefix: str                        # AWS id shape: vpc-0123…, or "" for name-keyed resources
    replaces: frozenset[str]              # top-level input properties (camelCase) that force replacement
    nested_replaces: frozenset[str] = field(default_factory=frozenset)  # "rootBlockDevice.encrypted"
    autoname: str | None = None           # the property pulumi-aws auto-names
    autoname_max: int = 255
    arn: str | None = None                # ARN template: {region} {account} {id} {name}
    id_from: str | None = None            # the id is this (auto-named) property, as IAM and RDS do


def _t(id_prefix: str, *replaces: str, **kw: object) -> TypeInfo:
    return TypeInfo(id_prefix=id_prefix, replaces=frozenset(replaces), **kw)  # type: ignore[arg-type]


TYPES: dict[str, TypeInfo] = {
    "aws:ec2/vpc:Vpc": _t("vpc", "cidrBlock", "instanceTenancy",
                          arn="arn:aws:ec2:{region}:{account}:vpc/{id}"),
    "aws:ec2/internetGateway:InternetGateway": _t("igw", arn="arn:aws:ec2:{region}:{account}:internet-gateway/{id}"),
    "aws:ec2/routeTable:RouteTable": _t("rtb", "vpcId", arn="arn:aws:ec2:{region}:{account}:route-table/{id}"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _t("rtbassoc", "subnetId", "gatewayId"),
    "aws:ec2/natGateway:NatGateway": _t("nat", "allocationId", "connectivityType", "privateIp",
                                        "secondaryPrivateIpAddressCount", "subnetId",
                                        arn="arn:aws:ec2:{region}:{account}:natgateway/{id}"),
    "aws:ec2/subnet:Subnet": _t("subnet", "vpcId", "cidrBlock", "availabilityZone",
                                arn="arn:aws:ec2:{region}:{account}:subnet/{id}"),
    "aws:ec2/securityGroup:SecurityGroup": _t("sg", "name", "namePrefix", "description", "vpcId", autoname="name",
                                              arn="arn:aws:ec2:{region}:{account}:security-group/{id}"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _t(
        "sgr", "securityGroupId", arn="arn:aws:ec2:{region}:{account}:security-group-rule/{id}"),
    "aws:ec2/keyPair:KeyPair": _t("key", "keyName", "keyNamePrefix", "publicKey", autoname="keyName",
                                  arn="arn:aws:ec2:{region}:{account}:key-pair/{name}"),
    "aws:iam/role:Role": _t("", "name", "namePrefix", "path", autoname="name", autoname_max=64, id_from="name",
                            arn="arn:aws:iam::{account}:role/{name}"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _t("", "role", "policyArn"),
    "aws:iam/instanceProfile:InstanceProfile": _t("", "name", "namePrefix", "path", autoname="name", autoname_max=128,
                                                  id_from="name", arn="arn:aws:iam::{account}:instance-profile/{name}"),
    "aws:ec2/eip:Eip": _t("eipalloc", "domain", "networkBorderGroup", "publicIpv4Pool"),
    "aws:ec2/eipAssociation:EipAssociation": _t("eipassoc", "allocationId", "instanceId", "networkInterfaceId",
                                                "privateIpAddress", "publicIp", "allowReassociation"),
    "aws:ebs/volume:Volume": _t("vol", "availabilityZone", "encrypted", "kmsKeyId", "snapshotId",
                                arn="arn:aws:ec2:{region}:{account}:volume/{id}"),
    "aws:ec2/volumeAttachment:VolumeAttachment": _t("vai", "deviceName", "instanceId", "volumeId"),
    "aws:ec2/instance:Instance": _t("i", "ami", "availabilityZone", "subnetId", "keyName", "associatePublicIpAddress",
                                    "privateIp", nested_replaces=frozenset({"rootBlockDevice.encrypted"}),
                                    arn="arn:aws:ec2:{region}:{account}:instance/{id}"),
    "aws:lb/loadBalancer:LoadBalancer": _t("", "name", "namePrefix", "internal", "loadBalancerType", autoname="name",
                                           autoname_max=32,
                                           arn="arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{hex}"),
    "aws:lb/targetGroup:TargetGroup": _t("", "name", "namePrefix", "port", "protocol", "targetType", "vpcId",
                                         autoname="name", autoname_max=32,
                                         arn="arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{hex}"),
    "aws:lb/listener:Listener": _t("", "loadBalancerArn",
                                   arn="arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{hex}/{hex2}"),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": _t("", "targetGroupArn", "targetId", "port",
                                                             "availabilityZone"),
    "aws:rds/subnetGroup:SubnetGroup": _t("", "name", "namePrefix", autoname="name", id_from="name",
                                          arn="arn:aws:rds:{region}:{account}:subgrp:{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _t("", "name", autoname="name", autoname_max=255, id_from="name",
                                                 arn="arn:aws:cloudwatch:{region}:{account}:alarm:{name}"),
    "aws:cloudwatch/logGroup:LogGroup": _t("", "name", "namePrefix", autoname="name", autoname_max=512,
                                           id_from="name", arn="arn:aws:logs:{region}:{account}:log-group:{name}"),
    "aws:iam/rolePolicy:RolePolicy": _t("", "name", "namePrefix", "role", autoname="name", autoname_max=128),
    "aws:lambda/function:Function": _t("", "name", "packageType", autoname="name", autoname_max=64, id_from="name",
                                       arn="arn:aws:lambda:{region}:{account}:function:{name}"),
    "aws:lambda/permission:Permission": _t("", "action", "function", "principal", "sourceArn", "sourceAccount",
                                           "statementId", "statementIdPrefix", "qualifier", "eventSourceToken",
                                           "principalOrgId", "functionUrlAuthType"),
    "aws:lambda/invocation:Invocation": _t("", "functionName", "input", "qualifier", "triggers", "lifecycleScope",
                                           "terraformKey"),
    "aws:scheduler/scheduleGroup:ScheduleGroup": _t("", "name", "namePrefix", autoname="name", autoname_max=64,
                                                    id_from="name",
                                                    arn="arn:aws:scheduler:{region}:{account}:schedule-group/{name}"),
    "aws:scheduler/schedule:Schedule": _t("", "name", "namePrefix", "groupName", autoname="name", autoname_max=64,
                                          id_from="name"),
    "aws:rds/instance:Instance": _t("db", "engine", "username", "dbName",
                                    "storageEncrypted", "kmsKeyId", "availabilityZone", "characterSetName",
                                    "timezone", autoname="identifier", autoname_max=63,
                                    arn="arn:aws:rds:{region}:{account}:db:{name}"),
}


RULE_SOURCES = ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")


def replaces(type_: str, prop: str, old: object, new: object) -> bool:
    """Does changing `prop` from old to new replace a resource of `type_`? Nested keys are checked one level down;
    the two conditional rules (an ingress rule's source kind, an instance type's CPU architecture) are data-driven."""
    info = TYPES[type_]
    if prop in info.replaces:
        return True
    if type_ == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" and prop in RULE_SOURCES:
        return new is not UNKNOWN and (old is None) != (new is None)
    if type_ == "aws:ec2/instance:Instance" and prop == "instanceType" and isinstance(old, str) and isinstance(new, str):
        from stackkit.config.instance_types import architecture
        return architecture(old) != architecture(new)
    nested = [n.split(".", 1)[1] for n in info.nested_replaces if n.split(".", 1)[0] == prop]
    if nested:
        o = old if isinstance(old, dict) else {}
        n = new if isinstance(new, dict) else {}
        return any(o.get(k) != n.get(k) for k in nested)
    return False
