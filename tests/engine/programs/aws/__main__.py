"""An AWS-only program for the engine tests (no pulumi-command): what the real engine and the stand-in do with a key
pair, an instance, a protected volume, a security group and a secret. Config (namespace `t`):
  public_key      the key pair's public key (a change replaces the key pair, hence every instance using its name)
  keep_volume     false: remove the protected volume from the program
  sg_description  the security group rule's description
  db_password     a secret, used as an RDS password
"""

import pulumi
import pulumi_aws as aws

cfg = pulumi.Config("t")
key = aws.ec2.KeyPair("key", public_key=cfg.require("public_key"))
vpc = aws.ec2.Vpc("vpc", cidr_block="10.9.0.0/16", tags={"Name": "engine-test"})
subnet = aws.ec2.Subnet("subnet", vpc_id=vpc.id, cidr_block="10.9.0.0/20", availability_zone="eu-west-1a")
sg = aws.ec2.SecurityGroup("sg", vpc_id=vpc.id, description="engine test",
                           ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22,
                                                                     cidr_blocks=["203.0.113.0/24"],
                                                                     description=cfg.get("sg_description") or "ssh")])
web = aws.ec2.Instance("web", ami="ami-0123456789abcdef0", instance_type=cfg.get("instance_type") or "t3.small",
                       subnet_id=subnet.id, key_name=key.key_name, vpc_security_group_ids=[sg.id])
if cfg.get_bool("keep_volume") is not False:
    data = aws.ebs.Volume("data", availability_zone="eu-west-1a", size=10, type="gp3", encrypted=True,
                          opts=pulumi.ResourceOptions(protect=True))
    aws.ec2.VolumeAttachment("data", device_name="/dev/xvdf", volume_id=data.id, instance_id=web.id,
                             opts=pulumi.ResourceOptions(delete_before_replace=True))
db = aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.small", allocated_storage=20, username="zope",
                      password=cfg.require_secret("db_password"), skip_final_snapshot=True)
pulumi.export("key_name", key.key_name)
pulumi.export("instance", web.id)
pulumi.export("db_endpoint", db.endpoint)
