"""An AWS-only program for the engine tests (no pulumi-command): what the real engine and the stand-in do with a key
pair, an instance, a protected volume, a security group and a secret. Config (namespace `t`):
  public_key      the key pair's public key (a change replaces the key pair, hence every instance using its name)
  keep_volume     false: remove the protected volume from the program
  sg_description  the security group rule's description
  db_password     a secret, used as an RDS password
  instance        the instance's name (default web): its data volume is <instance>-data
  alarm_periods   the evaluation periods of the instance's recover alarm (auto healing; default 2)
The program refuses, before registering anything, to lose a data volume the previous deployment exported in
`data_holders`, read back as stackkit's program does (stackkit.components.previous).
"""

import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))      # the repository: stackkit's own modules
from stackkit.cluster.data import HOLDERS_OUTPUT  # noqa: E402
from stackkit.components.previous import previous_outputs  # noqa: E402

cfg = pulumi.Config("t")
name = cfg.get("instance") or "web"
keep = cfg.get_bool("keep_volume") is not False
held = {f"instances.{name}.volumes.data"} if keep else set()
lost = sorted(set(previous_outputs().get(HOLDERS_OUTPUT) or {}) - held)
if lost and cfg.get("check") != "off":
    raise pulumi.RunError(f"refused before anything runs: {', '.join(lost)} would be lost")
key = aws.ec2.KeyPair("key", public_key=cfg.require("public_key"))
vpc = aws.ec2.Vpc("vpc", cidr_block="10.9.0.0/16", tags={"Name": "engine-test"})
subnet = aws.ec2.Subnet("subnet", vpc_id=vpc.id, cidr_block="10.9.0.0/20", availability_zone="eu-west-1a")
sg = aws.ec2.SecurityGroup("sg", vpc_id=vpc.id, description="engine test",
                           ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22,
                                                                     cidr_blocks=["203.0.113.0/24"],
                                                                     description=cfg.get("sg_description") or "ssh")])
web = aws.ec2.Instance(name, ami="ami-0123456789abcdef0", instance_type=cfg.get("instance_type") or "t3.small",
                       subnet_id=subnet.id, key_name=key.key_name, vpc_security_group_ids=[sg.id])
if keep:
    data = aws.ebs.Volume("data" if name == "web" else f"{name}-data", availability_zone="eu-west-1a", size=10,
                          type="gp3", encrypted=True, opts=pulumi.ResourceOptions(protect=True))
    aws.ec2.VolumeAttachment("data" if name == "web" else f"{name}-data", device_name="/dev/xvdf",
                             volume_id=data.id, instance_id=web.id,
                             opts=pulumi.ResourceOptions(delete_before_replace=True))
aws.cloudwatch.MetricAlarm("recover", name=f"engine-{name}-recover", namespace="AWS/EC2",
                           metric_name="StatusCheckFailed_System", dimensions={"InstanceId": web.id},
                           statistic="Maximum", period=60, evaluation_periods=int(cfg.get("alarm_periods") or 2),
                           threshold=1, comparison_operator="GreaterThanOrEqualToThreshold",
                           alarm_actions=["arn:aws:automate:eu-west-1:ec2:recover"])
db = aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.small", allocated_storage=20, username="zope",
                      password=cfg.require_secret("db_password"), skip_final_snapshot=True)
pulumi.export("key_name", key.key_name)
pulumi.export("instance", web.id)
pulumi.export("db_endpoint", db.endpoint)
pulumi.export(HOLDERS_OUTPUT, {label: {"kind": "volume", "instance": name} for label in sorted(held)})
