"""stackkit:index:Instance — one EC2 instance carrying one or more layers: the machine (AMI looked up by OS name,
IMDSv2 required, encrypted root volume), its Elastic IP, its EBS volumes and their attachments, and its lifecycle
commands (stackkit.components.lifecycle adds them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stackkit.cluster.hostkeys import HostKey, cloud_config
from stackkit.components.healing import Healing, add_alarms
from stackkit.config.instance_types import architecture

# AMI owners and name patterns per OS: looked up in the stack's region at run time, so one config works everywhere.
AMIS = {
    "debian-12": ("136693071363", "debian-12-{arch}-*"),
    "ubuntu-24.04": ("099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-{arch}-server-*"),
}
DEVICE_LETTERS = "fghijklmnop"
# an adopted instance (`import opsworks --adopt`) was launched by OpsWorks with its own image, subnet, groups, profile,
# key, user data and tags: the first up imports it as it is (an import fails on any difference), and no later edit of
# these replaces it; it is protected besides
ADOPTED_IGNORE = ["ami", "userData", "userDataBase64", "keyName", "subnetId", "vpcSecurityGroupIds", "securityGroups",
                  "iamInstanceProfile", "associatePublicIpAddress", "rootBlockDevice", "ebsBlockDevices",
                  "metadataOptions", "monitoring", "tags", "tagsAll", "availabilityZone", "instanceType", "privateIp",
                  "ebsOptimized", "creditSpecification", "tenancy", "sourceDestCheck", "hibernation"]


@dataclass(frozen=True)
class VolumeSpec:
    """A data volume of this instance: from a layer's volumes (created here) or a registered volume (created by Stack)."""

    name: str
    mount_point: str
    size_gb: int
    type: str
    encrypted: bool
    iops: int | None = None
    throughput: int | None = None
    registered: bool = False
    # an adopted volume attached to an adopted instance: (device, volume id) of the attachment, imported
    adopted: tuple[str, str] | None = None


@dataclass
class InstanceArgs:
    instance_type: str
    os: str
    subnet_id: pulumi.Input[str]
    availability_zone: pulumi.Input[str]
    security_group_ids: list[pulumi.Input[str]]
    key_name: pulumi.Input[str]
    instance_profile: pulumi.Input[str]
    hostname: str
    root_volume_gb: int
    host_key: HostKey                              # its derived SSH host key, installed at first boot (cloud-init)
    volumes: list[VolumeSpec] = field(default_factory=list)
    registered_volume_ids: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    elastic_ip: aws.ec2.Eip | None = None          # a registered Elastic IP
    auto_elastic_ip: bool = False                  # a layer auto-assigns one
    public: bool = True                            # a public IP (public subnet); else private, SSH through a bastion
    egress: list[pulumi.Resource] = field(default_factory=list)   # a private subnet's route out (NAT), created first
    tags: dict[str, str] = field(default_factory=dict)
    pin: str = "derived"                           # instances.<name>.host_key: derived | unpinned | a public key
    healing: Healing | None = None                 # its layers' auto_healing: the recover and reboot alarms
    detailed_monitoring: bool = False              # 1-minute CloudWatch metrics (a load-based layer's alarms)
    import_id: str | None = None                   # an adopted instance (instances.<name>.import_id): imported


def ami_lookup(os_name: str, instance_type: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    owner, pattern = AMIS[os_name]
    arch = architecture(instance_type)
    name = pattern.format(arch="amd64" if arch == "x86_64" else "arm64")
    ami = aws.ec2.get_ami_output(owners=[owner], most_recent=True,
                                 filters=[aws.ec2.GetAmiFilterArgs(name="name", values=[name]),
                                          aws.ec2.GetAmiFilterArgs(name="architecture", values=[arch])],
                                 opts=pulumi.InvokeOutputOptions(parent=parent))
    return ami.id


class Instance(pulumi.ComponentResource):
    ec2: aws.ec2.Instance
    address: pulumi.Output[str]          # where SSH reaches it: its Elastic IP, else its public IP; private: private IP
    elastic_ip: pulumi.Output[str | None]
    attachments: list[aws.ec2.VolumeAttachment]
    devices: list[dict[str, str]]        # {device, mount_point, volume} for the setup bundle's sk_mount
    host_key: pulumi.Output[str] | None  # the public host key its SSH connections pin (None: unpinned)

    def __init__(self, name: str, args: InstanceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stackkit:index:Instance", name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "stackkit:instance": name}
        self.ec2 = aws.ec2.Instance(
            name,
            ami=ami_lookup(args.os, args.instance_type, self),
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=args.security_group_ids,
            key_name=args.key_name,
            iam_instance_profile=args.instance_profile,
            monitoring=True if args.detailed_monitoring else None,
            associate_public_ip_address=args.public,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_tokens="required", http_endpoint="enabled",
                                                                 http_put_response_hop_limit=1),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True, volume_type="gp3",
                                                                  volume_size=args.root_volume_gb,
                                                                  delete_on_termination=True),
            # holds the host key's private half: a secret, encrypted in the state
            user_data=pulumi.Output.secret(cloud_config(args.hostname, args.host_key)),
            tags={**tags, "Name": f"{args.hostname}"},
            # a newer AMI must not replace a running instance: replace it on purpose (a new name). The user data
            # (hostname, host key) and the key pair act at first boot only: a running instance keeps its first ones
            # (a new stack SSH key reaches it through the users step: stackkit.cluster.access), and a replacement is
            # created from the program's current ones (the engine re-checks a replacement's inputs without the old)
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami", "userData", "keyName"],
                                        depends_on=args.egress)
            if args.import_id is None else
            pulumi.ResourceOptions(parent=self, import_=args.import_id, protect=True, ignore_changes=ADOPTED_IGNORE,
                                   depends_on=args.egress))
        self.host_key = self._pin(name, args)
        # on the instance's id only, and an input of nothing: healing never runs a lifecycle script
        self.alarms = ([] if args.healing is None
                       else add_alarms(name, self.ec2.id, args.healing, tags, self))

        self.elastic_ip = pulumi.Output.from_input(None)
        eip = args.elastic_ip
        if eip is None and args.auto_elastic_ip:
            # an address people's DNS points at: protected like a registered one (nothing replaces it), and kept in
            # the account if it ever leaves the stack (retain): stackkit.cluster.data refuses an edit that drops it
            eip = aws.ec2.Eip(f"{name}-eip", domain="vpc", tags={**tags, "Name": f"{name}-eip"},
                              opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True))
        self.eip_association = None
        if eip is not None:
            self.eip_association = aws.ec2.EipAssociation(f"{name}-eip", allocation_id=eip.allocation_id,
                                                          instance_id=self.ec2.id, opts=child)
            self.elastic_ip = eip.public_ip
        self.address = (pulumi.Output.all(self.elastic_ip, self.ec2.public_ip).apply(lambda a: a[0] or a[1])
                        if args.public else self.ec2.private_ip)

        self.attachments = []
        self.devices = []
        for i, vol in enumerate(args.volumes):
            device = vol.adopted[0] if vol.adopted else f"/dev/xvd{DEVICE_LETTERS[i]}"
            if vol.registered:
                volume_id = args.registered_volume_ids[vol.name]
            else:
                volume = aws.ebs.Volume(
                    f"{name}-{vol.name}", availability_zone=args.availability_zone, size=vol.size_gb, type=vol.type,
                    encrypted=vol.encrypted, iops=vol.iops, throughput=vol.throughput,
                    tags={**tags, "Name": f"{name}-{vol.name}", "stackkit:mount_point": vol.mount_point},
                    # data: a config edit must never delete or replace it (protect), nor instance termination
                    opts=pulumi.ResourceOptions(parent=self, protect=True))
                volume_id = volume.id
            self.attachments.append(aws.ec2.VolumeAttachment(
                f"{name}-{vol.name}", device_name=device, volume_id=volume_id, instance_id=self.ec2.id,
                stop_instance_before_detaching=True,
                # moving to a replacement instance: detach from the old one before attaching to the new one; an
                # adopted volume already attached to its adopted instance: imported (device:volume:instance)
                # (AWS does not keep stopInstanceBeforeDetaching: an import reads none, so it is not compared)
                # one after the other: the engine runs each delete-before-replace in its own chain, and the first
                # chain also deletes the instance's shutdown command (it depends on every attachment): a second
                # attachment replaced alongside would stop the instance while its shutdown still runs
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=True, depends_on=self.attachments[-1:],
                    import_=f"{device}:{vol.adopted[1]}:{args.import_id}" if vol.adopted else None,
                    ignore_changes=["stopInstanceBeforeDetaching"] if vol.adopted else None)))
            self.devices.append({"device": device, "mount_point": vol.mount_point, "volume": vol.name})

    def _pin(self, name: str, args: InstanceArgs) -> pulumi.Output[str] | None:
        if args.pin == "derived":
            # the key of the instance's first user data, kept by a Stash: its output stays the value it was created
            # with, as the instance keeps its first user data (a later change of the stack's SSH key changes neither);
            # replaced with the instance, whose replacement boots with the program's current user data
            stash = pulumi.Stash(f"{name}-host-key", input=args.host_key.public,
                                 opts=pulumi.ResourceOptions(parent=self, replace_with=[self.ec2]))
            return stash.output
        if args.pin == "unpinned":
            pulumi.log.warn(f"{name}: its SSH host key is not checked (instances.{name}.host_key: unpinned): the "
                            "lifecycle bundles, secrets included, go to whoever answers at its address", resource=self)
            return None
        return pulumi.Output.from_input(args.pin)

    def finish(self, outputs: dict[str, pulumi.Input[object]] | None = None) -> None:
        self.register_outputs({"id": self.ec2.id, "private_ip": self.ec2.private_ip, "address": self.address,
                               **(outputs or {})})
