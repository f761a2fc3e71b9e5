"""stackkit:index:Stack — one environment in one region: network, key pair, IAM role, registered resources, and the
Layer, Database, Instance and App components with their lifecycle. Everything is built from a validated `Loaded`."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from stackkit.aws import policies
from stackkit.cluster.access import KEYS_OUTPUT, keys_output
from stackkit.cluster.data import HOLDERS_OUTPUT, holders
from stackkit.cluster.hostkeys import derive
from stackkit.cluster.state import DatabaseFacts
from stackkit.components.app import App
from stackkit.components.database import Database, DatabaseArgs
from stackkit.components.healing import Healing
from stackkit.components.instance import Instance, InstanceArgs, VolumeSpec
from stackkit.components.layer import Layer, LayerArgs, ingress_rules
from stackkit.components.lifecycle import COMMANDS_OUTPUT, Lifecycle, add_lifecycle
from stackkit.components.network import Network, create_network
from stackkit.components.scaling import ScaledLayer, Scaling
from stackkit.components.schedule import Schedules, Timed
from stackkit.components.wake import Wake
from stackkit.config.instance_types import recoverable
from stackkit.config.load import Loaded
from stackkit.config.load_based_stack import gate_payload, load_based_layer, scaled_layers, scaler_settings
from stackkit.config.placement import bastion, is_public, private_instances

BASTION_OUTPUT = "bastion"
# an adopted registered volume (resources.volumes.<name>.import_id): imported as it is (an import fails on any
# difference); its type, IOPS, encryption and tags stay as OpsWorks made them
ADOPTED_VOLUME_IGNORE = ["type", "iops", "throughput", "encrypted", "kmsKeyId", "tags", "tagsAll"]


class Stack(pulumi.ComponentResource):
    network: Network
    layers: dict[str, Layer]
    databases: dict[str, Database]
    instances: dict[str, Instance]
    apps: dict[str, App]
    lifecycle: Lifecycle

    def __init__(self, loaded: Loaded, opts: pulumi.ResourceOptions | None = None,
                 previous_bastion: str | None = None) -> None:
        cfg = loaded.config
        name = cfg.stack.name
        super().__init__("stackkit:index:Stack", name, None, opts)
        self._name = name
        self._loaded = loaded
        self._child = pulumi.ResourceOptions(parent=self)
        self.tags = {**cfg.stack.tags, "stackkit:stack": name}
        # the bastion stays where the last deployment had it while it is a public instance (stackkit.config.placement)
        self.bastion = bastion(cfg, loaded.specs, previous=previous_bastion)

        self.network = create_network(name, cfg.stack.network, self.tags, self,
                                      nat=bool(private_instances(cfg, loaded.specs)))
        self._create_access()
        self._create_layers()
        self._create_registered()
        self._create_databases()
        self._create_instances()
        self._create_scaling()
        db_facts = {n: pulumi.Output.all(d.endpoint, d.port).apply(lambda a: DatabaseFacts(endpoint=a[0], port=a[1]))
                    for n, d in self.databases.items()}
        gated = [n for n in sorted(cfg.instances) if gate_payload(loaded.config, n) is not None]
        # time- and load-based instances may be stopped when a script must run on them: woken first, settled after
        self.wake = Wake(name,
                         sorted({s.timezone for i in cfg.instances.values() if (s := i.schedule) is not None}),
                         self.tags, cfg.region, opts=self._child) if gated else None
        self.lifecycle = add_lifecycle(loaded, self.instances, db_facts, self, self.wake, bastion=self.bastion)
        for lname, layer in self.layers.items():
            for iname in cfg.layer_instances(lname):
                layer.attach(iname, self.instances[iname].ec2.id, after=[self.lifecycle.shutdown[iname]])
            layer.finish()
        for inst in self.instances.values():
            inst.finish()
        self.apps = {a: App(a, s, cfg.app_instances(a), opts=self._child) for a, s in sorted(cfg.apps.items())}
        self.outputs = self._outputs()
        self.register_outputs(self.outputs)

    def _create_access(self) -> None:
        cfg = self._loaded.config
        name = self._name
        self.key_pair = aws.ec2.KeyPair(f"{name}-key", public_key=cfg.stack.ssh_public_key,
                                        tags={**self.tags, "Name": f"{name}-key"}, opts=self._child)
        assume = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        self.role = aws.iam.Role(f"{name}-instance", assume_role_policy=assume, tags=self.tags, opts=self._child)
        aws.iam.RolePolicyAttachment(f"{name}-ssm", role=self.role.name,
                                     policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", opts=self._child)
        self.instance_profile = aws.iam.InstanceProfile(f"{name}-instance", role=self.role.name, opts=self._child)
        # the bastion carries this group; SSH from it reaches the private instances (docs/design.md, Network)
        self.bastion_group = None if self.bastion is None else aws.ec2.SecurityGroup(
            f"{name}-bastion", vpc_id=self.network.vpc_id,
            description="stackkit: the bastion, SSH through it to the private instances",
            tags={**self.tags, "Name": f"{name}-bastion"}, opts=self._child)
        hop = [] if self.bastion_group is None else [aws.ec2.SecurityGroupIngressArgs(
            protocol="tcp", from_port=22, to_port=22, security_groups=[self.bastion_group.id],
            description="SSH from the bastion")]
        self.ssh_group = aws.ec2.SecurityGroup(
            f"{name}-ssh", vpc_id=self.network.vpc_id, description="stackkit: SSH from the admin CIDRs only",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22,
                                                      cidr_blocks=[str(c) for c in cfg.stack.admin_cidrs],
                                                      description="SSH from admin CIDRs"), *hop],
            tags={**self.tags, "Name": f"{name}-ssh"}, opts=self._child)

    def _create_layers(self) -> None:
        loaded, cfg = self._loaded, self._loaded.config
        self.layers = {
            lname: Layer(lname, LayerArgs(spec=loaded.specs[lname], settings=settings, vpc_id=self.network.vpc_id,
                                          public_subnet_ids=list(self.network.public_subnet_ids), tags=self.tags),
                         opts=self._child)
            for lname, settings in sorted(cfg.layers.items())}
        groups = {n: la.security_group.id for n, la in self.layers.items()}
        admin = [str(c) for c in cfg.stack.admin_cidrs]
        for lname, layer in self.layers.items():
            layer.add_ingress(ingress_rules(loaded.specs[lname], sorted(self.layers), admin,
                                            load_balanced=cfg.layers[lname].load_balancer is not None), groups)

    def _create_registered(self) -> None:
        cfg = self._loaded.config
        self.elastic_ips = {
            n: aws.ec2.Eip(f"{self._name}-eip-{n}", domain="vpc", tags={**self.tags, "Name": n},
                           opts=pulumi.ResourceOptions(parent=self, protect=True, import_=e.import_id,
                                                       ignore_changes=["tags", "tagsAll"] if e.import_id else None))
            for n, e in sorted(cfg.resources.elastic_ips.items())}
        self.volumes = {}
        for n, v in sorted(cfg.resources.volumes.items()):
            az = v.az if v.az is not None else cfg.instances[v.instance].az
            self.volumes[n] = aws.ebs.Volume(
                f"{self._name}-volume-{n}", availability_zone=self.network.azs[az], size=v.size_gb, type=v.type,
                encrypted=v.encrypted, iops=v.iops, tags={**self.tags, "Name": n, "stackkit:mount_point": v.mount_point},
                # adopted (import_id): imported as it is; its type, IOPS, encryption and tags stay as they were
                opts=pulumi.ResourceOptions(parent=self, protect=True, import_=v.import_id,
                                            ignore_changes=ADOPTED_VOLUME_IGNORE if v.import_id else None))

    def _create_databases(self) -> None:
        cfg = self._loaded.config
        self.databases = {
            n: Database(n, DatabaseArgs(config=d, vpc_id=self.network.vpc_id,
                                        private_subnet_ids=list(self.network.private_subnet_ids),
                                        client_groups={la: self.layers[la].security_group.id
                                                       for la in cfg.database_users(n)}, tags=self.tags),
                        opts=self._child)
            for n, d in sorted(cfg.resources.databases.items())}

    def _create_instances(self) -> None:
        loaded, cfg = self._loaded, self._loaded.config
        self.instances = {}
        for iname, inst in sorted(cfg.instances.items()):
            public = is_public(cfg, loaded.specs, iname)
            subnets = self.network.public_subnet_ids if public else self.network.private_subnet_ids
            vols: list[VolumeSpec] = []
            for la in inst.layers:
                over = cfg.layers[la].volumes
                for v in loaded.specs[la].volumes:
                    o = over.get(v.name)

                    def pick(k: str, v: Any = v, o: Any = o) -> Any:
                        return getattr(o, k) if o is not None and getattr(o, k) is not None else getattr(v, k)
                    vols.append(VolumeSpec(name=v.name, mount_point=v.mount_point, size_gb=pick("size_gb"),
                                           type=pick("type"), encrypted=pick("encrypted"), iops=pick("iops"),
                                           throughput=pick("throughput")))
            for vname, rv in sorted(cfg.resources.volumes.items()):
                if rv.instance == iname:
                    vols.append(VolumeSpec(name=vname, mount_point=rv.mount_point, size_gb=rv.size_gb, type=rv.type,
                                           encrypted=rv.encrypted, iops=rv.iops, registered=True,
                                           adopted=(rv.device, rv.import_id)
                                           if rv.device and rv.import_id and inst.import_id else None))
            self.instances[iname] = Instance(iname, InstanceArgs(
                instance_type=inst.type, os=cfg.stack.os, subnet_id=subnets[inst.az], public=public,
                egress=[] if public else self.network.egress[inst.az:inst.az + 1],
                availability_zone=self.network.azs[inst.az],
                security_group_ids=[self.ssh_group.id, *[self.layers[la].security_group.id for la in inst.layers],
                                    *([self.bastion_group.id] if self.bastion_group and iname == self.bastion else [])],
                key_name=self.key_pair.key_name, instance_profile=self.instance_profile.name,
                hostname=cfg.hostname(iname), root_volume_gb=inst.root_volume_gb, volumes=vols,
                host_key=derive(cfg.stack.ssh_private_key.get_secret_value(), pulumi.get_stack(), iname),
                pin=inst.host_key,
                healing=Healing(prefix=f"{self._name}-{iname}", region=cfg.region, recover=recoverable(inst.type),
                                topic_arn=cfg.stack.notifications.topic_arn if cfg.stack.notifications else None)
                if cfg.auto_healing(iname) else None,
                registered_volume_ids={n: v.id for n, v in self.volumes.items()},
                import_id=inst.import_id,
                elastic_ip=self.elastic_ips.get(inst.elastic_ip) if inst.elastic_ip else None,
                auto_elastic_ip=any(cfg.layers[la].elastic_ips for la in inst.layers),
                # the layer's average CPU in 1-minute periods for the load-based alarms
                detailed_monitoring=any(cfg.layers[la].load_based is not None for la in inst.layers),
                # the tags the scheduler's, the scaler's and the wake function's policies allow (stackkit.aws.policies)
                tags={**self.tags, "stackkit:layers": ",".join(inst.layers),
                      **({policies.LOAD_BASED_TAG: scaled} if (scaled := load_based_layer(cfg, iname)) else {}),
                      **({policies.TIME_BASED_TAG: "true"} if inst.schedule is not None else {})}),
                opts=self._child)

    def _create_scaling(self) -> None:
        """Time-based instances' schedules and load-based layers' alarms and function (none: no resource at all)."""
        cfg = self._loaded.config
        timed = {n: Timed(schedule=i.schedule, instance_id=self.instances[n].ec2.id)
                 for n, i in sorted(cfg.instances.items()) if i.schedule is not None}
        self.schedules = Schedules(self._name, timed, self.tags, cfg.region, opts=self._child) if timed else None
        for la, s in sorted(cfg.layers.items()):
            if s.load_based is not None and la not in scaled_layers(cfg):
                pulumi.log.warn(f"layers.{la}.load_based: no instance of the layer is load-based, so it gets no alarms "
                                f"until one has load_based: true", resource=self)
        scaled = {la: ScaledLayer(settings=cfg.layers[la].load_based,  # type: ignore[arg-type]
                                  instance_ids=[self.instances[i].ec2.id for i in cfg.layer_instances(la)])
                  for la in scaled_layers(cfg)}
        self.scaling = (Scaling(self._name, scaler_settings(cfg), scaled, self.tags, cfg.region,
                                opts=self._child)
                        if scaled else None)

    def _outputs(self) -> dict[str, pulumi.Input[object]]:
        out: dict[str, pulumi.Input[object]] = {
            "instances": {n: {"id": i.ec2.id, "address": i.address, "private_ip": i.ec2.private_ip}
                          for n, i in self.instances.items()},
            # read back by the next run before it registers anything (stackkit.program): what this deployment holds,
            # the keys its instances authorize, where SSH to the private instances goes through
            HOLDERS_OUTPUT: holders(self._loaded),
            KEYS_OUTPUT: keys_output(self._loaded.config),
            BASTION_OUTPUT: self.bastion,
            # every lifecycle command: its instance, the events its create and delete run, its app (the console,
            # `plan --against`)
            COMMANDS_OUTPUT: self.lifecycle.commands,
        }
        lbs = {n: la.load_balancer.dns_name for n, la in self.layers.items() if la.load_balancer is not None}
        if lbs:
            out["load_balancers"] = lbs
        if self.databases:
            out["databases"] = {n: d.endpoint for n, d in self.databases.items()}
        return out
