"""stackkit:index:Database — a registered RDS database: subnet group on the private subnets, a security group open
only to the layers that use it, encrypted, never public; protected, with deletion protection and a final snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stackkit.config.models import DatabaseResource


@dataclass
class DatabaseArgs:
    config: DatabaseResource
    vpc_id: pulumi.Input[str]
    private_subnet_ids: list[pulumi.Input[str]]
    client_groups: dict[str, pulumi.Input[str]]       # layer name -> its security group id
    tags: dict[str, str] = field(default_factory=dict)


ADOPTED_IGNORE = ["engineVersion", "instanceClass", "allocatedStorage", "storageType", "storageEncrypted", "kmsKeyId",
                  "dbName", "username", "password", "port", "multiAz", "publiclyAccessible", "dbSubnetGroupName",
                  "vpcSecurityGroupIds", "backupRetentionPeriod", "deletionProtection", "skipFinalSnapshot",
                  "finalSnapshotIdentifier", "copyTagsToSnapshot", "autoMinorVersionUpgrade", "applyImmediately",
                  "parameterGroupName", "optionGroupName", "tags", "tagsAll", "iops", "storageThroughput"]


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stackkit:index:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        db = args.config
        tags = {**args.tags, "stackkit:database": name}
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-db-sg", vpc_id=args.vpc_id, description=f"stackkit database {name}: only its layers",
            tags={**tags, "Name": f"{name}-db-sg"}, opts=child)
        for layer, group in sorted(args.client_groups.items()):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-db-in-{db.port}-from-{layer}", security_group_id=self.security_group.id, ip_protocol="tcp",
                from_port=db.port, to_port=db.port, referenced_security_group_id=group,
                description=f"{db.engine} from layer {layer}", opts=child)
        subnets = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=args.private_subnet_ids,
                                      tags={**tags, "Name": f"{name}-subnets"}, opts=child)
        self.instance = aws.rds.Instance(
            f"{name}-db",
            # adopted: its own identifier (an auto-named one would differ, and a new identifier replaces it)
            identifier=db.import_id,
            engine=db.engine, engine_version=db.engine_version, instance_class=db.instance_class,
            allocated_storage=db.allocated_storage_gb, storage_type="gp3", storage_encrypted=True,
            db_name=db.name, username=db.username, password=pulumi.Output.secret(db.password.get_secret_value()),
            port=db.port, multi_az=db.multi_az, publicly_accessible=False,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[self.security_group.id],
            backup_retention_period=db.backup_retention_days, deletion_protection=db.deletion_protection,
            skip_final_snapshot=not db.final_snapshot,
            final_snapshot_identifier=f"{name}-final" if db.final_snapshot else None,
            copy_tags_to_snapshot=True, auto_minor_version_upgrade=True, apply_immediately=False,
            tags={**tags, "Name": f"{name}-db"},
            # adopted (import_id): imported as it runs; what it was made with stays (an import fails on any
            # difference, and several of these would replace it: its name, user, encryption, subnet group)
            opts=pulumi.ResourceOptions(parent=self, protect=True, additional_secret_outputs=["password"],
                                        import_=db.import_id,
                                        ignore_changes=ADOPTED_IGNORE if db.import_id else None))
        self.endpoint = self.instance.address
        self.port = self.instance.port
        self.register_outputs({"endpoint": self.endpoint, "port": self.port})
