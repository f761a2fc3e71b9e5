"""AWS's facts about replacement: for every resource type the program uses, the input properties whose change makes
pulumi-aws REPLACE the resource (delete and create anew) rather than update it in place. One owner, neutral: the local
cloud's stand-in for pulumi-aws reads it (its Diff), and so does stackkit.cluster.data (which edits would empty a
data holder).

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
"""

from __future__ import annotations

from typing import Any

from stackkit.config.instance_types import architecture


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()  # a value not known until apply (a replaced dependency's new id or address)

# type -> the top-level input properties (camelCase, as the engine sends them) whose change replaces it
REPLACES: dict[str, frozenset[str]] = {
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "instanceTenancy"}),
    "aws:ec2/internetGateway:InternetGateway": frozenset(),
    "aws:ec2/routeTable:RouteTable": frozenset({"vpcId"}),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": frozenset({"subnetId", "gatewayId"}),
    "aws:ec2/natGateway:NatGateway": frozenset(
        {"allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId"}
    ),
    "aws:ec2/subnet:Subnet": frozenset({"vpcId", "cidrBlock", "availabilityZone"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "namePrefix", "description", "vpcId"}),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": frozenset({"securityGroupId"}),
    "aws:ec2/keyPair:KeyPair": frozenset({"keyName", "keyNamePrefix", "publicKey"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"role", "policyArn"}),
    "aws:iam/instanceProfile:InstanceProfile": frozenset({"name", "namePrefix", "path"}),
    "aws:ec2/eip:Eip": frozenset({"domain", "networkBorderGroup", "publicIpv4Pool"}),
    "aws:ec2/eipAssociation:EipAssociation": frozenset(
        {"allocationId", "instanceId", "networkInterfaceId", "privateIpAddress", "publicIp", "allowReassociation"}
    ),
    "aws:ebs/volume:Volume": frozenset({"availabilityZone", "encrypted", "kmsKeyId", "snapshotId"}),
    "aws:ec2/volumeAttachment:VolumeAttachment": frozenset({"deviceName", "instanceId", "volumeId"}),
    "aws:ec2/instance:Instance": frozenset(
        {"ami", "availabilityZone", "subnetId", "keyName", "associatePublicIpAddress", "privateIp"}
    ),
    "aws:lb/loadBalancer:LoadBalancer": frozenset({"name", "namePrefix", "internal", "loadBalancerType"}),
    "aws:lb/targetGroup:TargetGroup": frozenset({"name", "namePrefix", "port", "protocol", "targetType", "vpcId"}),
    "aws:lb/listener:Listener": frozenset({"loadBalancerArn"}),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": frozenset({"targetGroupArn", "targetId", "port", "availabilityZone"}),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"name", "namePrefix"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset({"name"}),
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
    "aws:lambda/function:Function": frozenset({"name", "packageType"}),
    "aws:lambda/permission:Permission": frozenset(
        {
            "action",
            "function",
            "principal",
            "sourceArn",
            "sourceAccount",
            "statementId",
            "statementIdPrefix",
            "qualifier",
            "eventSourceToken",
            "principalOrgId",
            "functionUrlAuthType",
        }
    ),
    "aws:lambda/invocation:Invocation": frozenset(
        {"functionName", "input", "qualifier", "triggers", "lifecycleScope", "terraformKey"}
    ),
    "aws:scheduler/scheduleGroup:ScheduleGroup": frozenset({"name", "namePrefix"}),
    "aws:scheduler/schedule:Schedule": frozenset({"name", "namePrefix", "groupName"}),
    "aws:rds/instance:Instance": frozenset(
        {"engine", "username", "dbName", "storageEncrypted", "kmsKeyId", "availabilityZone", "characterSetName", "timezone"}
    ),
}
# nested properties ("rootBlockDevice.encrypted"): one level down
NESTED_REPLACES: dict[str, frozenset[str]] = {
    "aws:ec2/instance:Instance": frozenset({"rootBlockDevice.encrypted"}),
}
RULE_SOURCES = ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")


def replaces(type_: str, prop: str, old: object, new: object) -> bool:
    """Does changing `prop` from old to new replace a resource of `type_`? Nested keys are checked one level down;
    the two conditional rules (an ingress rule's source kind, an instance type's CPU architecture) are data-driven."""
    if prop in REPLACES[type_]:
        return True
    if type_ == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" and prop in RULE_SOURCES:
        return new is not UNKNOWN and (old is None) != (new is None)
    if type_ == "aws:ec2/instance:Instance" and prop == "instanceType" and isinstance(old, str) and isinstance(new, str):
        return architecture(old) != architecture(new)
    nested = [n.split(".", 1)[1] for n in NESTED_REPLACES.get(type_, ()) if n.split(".", 1)[0] == prop]
    if nested:
        o = old if isinstance(old, dict) else {}
        n = new if isinstance(new, dict) else {}
        return any(o.get(k) != n.get(k) for k in nested)
    return False
