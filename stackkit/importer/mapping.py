"""From a Snapshot (OpsWorks as its API describes it) to a stackkit project: the stack file's config, the layers'
folders and what the report says. Pure: nothing here reads or writes a file.

Every OpsWorks field either maps to a stackkit field or is reported, not mapped (docs/importing.md has the table).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from stackkit.config import instance_types
from stackkit.config.attribute_types import NODE_KEYS
from stackkit.config.inputs import domain_problem
from stackkit.config.models import ENV_NAME
from stackkit.errors import OpsWorksImportError
from stackkit.importer import recipes as rc
from stackkit.importer.intrinsics import AttributeRef
from stackkit.importer.snapshot import FILTERED, Record, Secret, Snapshot

PLACEHOLDER_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "
                   "replace-with-your-deploy-key")
DOC_CIDR = "203.0.113.0/24"
EVENT_SCRIPTS = rc.OPSWORKS_EVENTS
DAY_KEYS = {"Monday": "mon", "Tuesday": "tue", "Wednesday": "wed", "Thursday": "thu", "Friday": "fri",
            "Saturday": "sat", "Sunday": "sun"}
WEB_TYPES = ("php-app", "rails-app", "nodejs-app", "java-app", "web", "lb", "monitoring-master")
APP_SERVER_TYPES = ("php-app", "rails-app", "nodejs-app", "java-app", "aws-flow-ruby", "web")
VOLUME_TYPES = {"gp2": "gp2", "gp3": "gp3", "io1": "io1", "io2": "io2", "st1": "st1", "sc1": "sc1"}


@dataclass
class Options:
    stack: str                                   # the Pulumi stack name (Pulumi.<stack>.yaml)
    adopt: bool = False
    ssh_public_key: str | None = None
    admin_cidrs: list[str] = field(default_factory=list)


@dataclass
class Layer:
    name: str
    opsworks_name: str
    spec: dict[str, Any]                         # layer.yaml
    scripts: dict[str, str]                      # event -> script
    recipes: dict[str, list[rc.Recipe]]


@dataclass
class Project:
    config: dict[str, Any]                       # the stack file's `config:`
    layers: dict[str, Layer]
    secrets: list[tuple[str, str]] = field(default_factory=list)     # (config path, where its value is)
    mapped: list[tuple[str, str]] = field(default_factory=list)      # (OpsWorks field, stackkit field)
    reported: list[tuple[str, str]] = field(default_factory=list)    # (OpsWorks field and value, why not mapped)
    check: list[str] = field(default_factory=list)                   # what to check before `pulumi up`
    adopted: list[tuple[str, str]] = field(default_factory=list)     # (config path, id)
    files: dict[str, str] = field(default_factory=dict)              # more files of the project (certificates)
    config_resources: dict[str, Any] = field(default_factory=dict)   # stackkit:resources while it is mapped
    os_note: str = ""


def _slug(text: str, used: set[str], what: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", str(text).lower()).strip("-")
    base = re.sub(r"^[^a-z]+", "", base) or what
    base = base[:36].rstrip("-") or what
    name, n = base, 2
    while name in used:
        name, n = f"{base}-{n}", n + 1
    used.add(name)
    return name


def _json(value: Any, place: str, source: str) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if isinstance(value, Secret):
        raise OpsWorksImportError([f"{source}: {place}: custom JSON comes from {value.origin}, a secret; stackkit "
                                   "keeps attributes in plain text: give it as a plain parameter"])
    if isinstance(value, dict):
        return value
    try:
        out = json.loads(str(value))
    except json.JSONDecodeError as exc:
        raise OpsWorksImportError([f"{source}: {place}: custom JSON is not valid JSON ({exc.msg}, column "
                                   f"{exc.colno})"]) from None
    if not isinstance(out, dict):
        raise OpsWorksImportError([f"{source}: {place}: custom JSON must be an object"])
    return out


def _os(value: Any, place: str, source: str) -> str:
    text = str(value or "Amazon Linux 2")
    if "windows" in text.lower():
        raise OpsWorksImportError([f"{source}: {place}: {text!r} is a Windows OS; stackkit runs Linux only "
                                   "(Debian 12 or Ubuntu 24.04): Windows stacks and instances are not imported"])
    return "ubuntu-24.04" if text.lower().startswith("ubuntu") else "debian-12"


def _bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _az_index(az: Any) -> int | None:
    m = re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d([a-z])$", str(az or ""))
    return ord(m.group(2)) - ord("a") if m else None


def _hours(day: dict[str, Any]) -> list[str]:
    on = sorted(int(h) for h, v in (day or {}).items() if str(v).lower() == "on" and str(h).isdigit())
    ranges: list[str] = []
    start = prev = None
    for h in on + [None]:
        if h is not None and prev is not None and h == prev + 1:
            prev = h
            continue
        if start is not None and prev is not None:
            ranges.append(f"{start:02d}-{prev + 1:02d}")
        start = prev = h
    return ranges


class _Mapper:
    def __init__(self, snap: Snapshot, opts: Options) -> None:
        self.s = snap
        self.o = opts
        self.p = Project(config={}, layers={})
        self.layer_names: dict[str, str] = {}        # LayerId -> layer name
        self.instance_names: dict[str, str] = {}     # InstanceId -> instance name
        self.layer_types: dict[str, str] = {}        # layer name -> OpsWorks layer type

    def fail(self, place: str, message: str) -> OpsWorksImportError:
        return OpsWorksImportError([f"{self.s.source}: {place}: {message}"])

    def note(self, what: str, why: str) -> None:
        self.p.reported.append((what, why))

    def custom_json(self, attrs: Any, where: str) -> Any:
        """`attrs` without the keys node.json makes itself (an OpsWorks override of its own `deploy`, `opsworks` or
        `haproxy` node): each one left out is a line of IMPORT.md's checks, never a stack file that does not load."""
        if not isinstance(attrs, dict):
            return attrs
        for key in sorted(k for k in attrs if k in NODE_KEYS):
            self.p.check.append(f"{where}: '{key}' overrode OpsWorks' own node['{key}'], not carried: stackkit makes "
                                f"node.json's '{key}' from the stack file; move each value to the app's environment "
                                "or a layer's attributes, and the recipes that read it with it")
        return {k: v for k, v in attrs.items() if k not in NODE_KEYS}

    def secret(self, path: str, where: str) -> dict[str, str]:
        self.p.secrets.append((path, where))
        from stackkit.secrets import PLACEHOLDER
        return {"secure": f"{PLACEHOLDER}:set-with-pulumi-config-set-secret"}

    # --- stack -----------------------------------------------------------------------------------------------------

    def stack(self) -> dict[str, Any]:
        st = self.s.stack
        name = _slug(st.get("Name") or self.o.stack, set(), "stack")
        os_ = _os(st.get("DefaultOs"), "Stack.DefaultOs", self.s.source)
        self.p.os_note = (f"OpsWorks ran {st.get('DefaultOs') or 'Amazon Linux 2 (the default)'}; stackkit runs "
                          f"{os_}: check the package names in every layer's packages: and in the recipes you port "
                          "(yum/rpm names differ from Debian's)")
        self.p.mapped += [("Stack.Name", "stackkit:stack.name"), ("Stack.Region", "aws:region"),
                          ("Stack.DefaultOs", "stackkit:stack.os")]
        out: dict[str, Any] = {"name": name, "os": os_}
        if self.o.ssh_public_key:
            out["ssh_public_key"] = self.o.ssh_public_key
        else:
            out["ssh_public_key"] = PLACEHOLDER_KEY
            self.p.check.append("stackkit:stack.ssh_public_key is a placeholder: put your deploy key's public line "
                                "there (OpsWorks' DefaultSshKeyName "
                                f"{st.get('DefaultSshKeyName') or '(none)'} names an EC2 key pair, not a key)")
        out["ssh_private_key"] = self.secret("stackkit:stack.ssh_private_key", "the private half of ssh_public_key")
        out["admin_cidrs"] = self.o.admin_cidrs or [DOC_CIDR]
        if not self.o.admin_cidrs:
            self.p.check.append(f"stackkit:stack.admin_cidrs is {DOC_CIDR} (a documentation range): list your "
                                "office/VPN ranges (OpsWorks had no such setting)")
        attrs = self.custom_json(_json(st.get("CustomJson"), "Stack.CustomJson", self.s.source), "Stack.CustomJson")
        if attrs:
            out["attributes"] = attrs
            self.p.mapped.append(("Stack.CustomJson", "stackkit:stack.attributes"))
        if st.get("Tags"):
            tags = st["Tags"]
            out["tags"] = ({t["Key"]: str(t["Value"]) for t in tags} if isinstance(tags, list) else
                           {k: str(v) for k, v in tags.items()})
            self.p.mapped.append(("Stack.Tags", "stackkit:stack.tags"))
        network = self.network()
        if network:
            out["network"] = network
        for key in ("DefaultSshKeyName", "HostnameTheme", "ServiceRoleArn", "DefaultInstanceProfileArn",
                    "ConfigurationManager", "ChefConfiguration", "UseCustomCookbooks", "CustomCookbooksSource",
                    "DefaultRootDeviceType", "DefaultAvailabilityZone", "DefaultSubnetId", "AgentVersion",
                    "UseOpsworksSecurityGroups", "Attributes", "EcsClusterArn", "CloneAppIds",
                    "ClonePermissions", "SourceStackId"):
            if st.get(key) not in (None, "", [], {}):
                self.note(f"Stack.{key} = {_short(st[key])}", STACK_NOTES.get(key, "no stackkit equivalent"))
        return out

    def network(self) -> dict[str, Any]:
        st = self.s.stack
        subnets = sorted({str(i["SubnetId"]) for i in self.s.instances if i.get("SubnetId")}
                         | ({str(st["DefaultSubnetId"])} if st.get("DefaultSubnetId") else set()))
        azs = [a for a in (_az_index(i.get("AvailabilityZone")) for i in self.s.instances) if a is not None]
        net: dict[str, Any] = {}
        if azs and max(azs) + 1 > 2:
            net["az_count"] = max(azs) + 1
        if st.get("VpcId"):
            self.note(f"Stack.VpcId = {st['VpcId']}, subnets {', '.join(subnets) or '(none)'}",
                      "stackkit makes its own VPC (network.vpc_cidr) with public and private subnets per AZ; to "
                      "keep this VPC set network.vpc_id with public_subnet_ids and private_subnet_ids, one per AZ")
        return net

    # --- layers ----------------------------------------------------------------------------------------------------

    def layers(self) -> dict[str, Any]:
        used: set[str] = set()
        out: dict[str, Any] = {}
        load_based = {str(c.get("LayerId")): c for c in self.s.load_based}
        elbs = {str(e.get("LayerId")): e for e in self.s.elastic_load_balancers if e.get("LayerId")}
        for i, la in enumerate(self.s.layers):
            place = f"Layers[{i}] ({la.get('Shortname') or la.get('Name')})"
            name = _slug(la.get("Shortname") or la.get("Name") or f"layer{i}", used, "layer")
            self.layer_names[str(la.get("LayerId"))] = name
            self.layer_types[name] = str(la.get("Type") or "custom")
            if str(la.get("Type", "custom")) in ("ecs-cluster",):
                raise self.fail(place, "an ECS cluster layer has no stackkit equivalent (its containers are ECS's)")
            settings: dict[str, Any] = {}
            spec: dict[str, Any] = {"description": f"imported from the OpsWorks {la.get('Type', 'custom')} layer "
                                                   f"{la.get('Name') or name}"}
            if la.get("Packages"):
                spec["packages"] = list(la["Packages"])
                self.p.check.append(f"layers/{name}/layer.yaml packages: {', '.join(la['Packages'])}: "
                                    "OpsWorks' names were for its OS; check each exists on the image stackkit runs")
            vols = self.layer_volumes(la, name, place)
            if vols:
                spec["volumes"] = vols
            attrs = self.custom_json(_json(la.get("CustomJson"), f"{place}.CustomJson", self.s.source),
                                     f"{place}.CustomJson")
            if attrs:
                settings["attributes"] = attrs
            if _bool(la.get("AutoAssignElasticIps")):
                settings["elastic_ips"] = True
            if not _bool(la.get("EnableAutoHealing"), True):
                settings["auto_healing"] = False
            lb = self.load_based(load_based.get(str(la.get("LayerId"))), f"{place}.LoadBasedAutoScaling")
            if lb:
                settings["load_based"] = lb
            elb = elbs.get(str(la.get("LayerId")))
            if elb:
                port, lb_port, health = self.elb(elb)
                spec["load_balancer"] = {"port": port, "health_check_path": health}
                settings["load_balancer"] = {"listener_port": lb_port, "health_check_path": health}
                self.note(f"ELB {elb.get('ElasticLoadBalancerName')} (Classic) attached to layer {name}",
                          "becomes the layer's Application Load Balancer (a new one: its DNS name changes; move "
                          "your DNS records)")
            events = la.get("LifecycleEventConfiguration") or {}
            # the API's Shutdown, CloudFormation's ShutdownEventConfiguration
            shutdown = events.get("Shutdown") or events.get("ShutdownEventConfiguration") or {}
            if shutdown:
                self.note(f"{place}.LifecycleEventConfiguration.Shutdown = {_short(shutdown)}",
                          "stackkit drains for the load balancer's deregistration_delay (layers.<l>.load_balancer)")
            for key in ("AutoAssignPublicIps", "CustomSecurityGroupIds", "DefaultSecurityGroupNames",
                        "CustomInstanceProfileArn", "InstallUpdatesOnBoot", "UseEbsOptimizedInstances", "Attributes",
                        "CloudWatchLogsConfiguration"):
                if la.get(key) not in (None, "", [], {}):
                    self.note(f"{place}.{key} = {_short(la[key])}", LAYER_NOTES.get(key, "no stackkit equivalent"))
            recipes = rc.event_recipes(la, known_defaults=isinstance(la.get("DefaultRecipes"), dict))
            scripts = {e: rc.script(name, str(la.get("Name") or name), e, recipes[e]) for e in recipes}
            self.p.layers[name] = Layer(name, str(la.get("Name") or name), spec, scripts, recipes)
            out[name] = settings
        self.p.mapped += [("Layer.Shortname", "stackkit:layers.<name> and layers/<name>/"),
                          ("Layer.Packages", "layers/<name>/layer.yaml packages"),
                          ("Layer.VolumeConfigurations", "layers/<name>/layer.yaml volumes"),
                          ("Layer.AutoAssignElasticIps", "stackkit:layers.<name>.elastic_ips"),
                          ("Layer.EnableAutoHealing", "stackkit:layers.<name>.auto_healing"),
                          ("Layer.CustomJson", "stackkit:layers.<name>.attributes"),
                          ("Layer.CustomRecipes, DefaultRecipes", "layers/<name>/<event>.sh.j2 (listed; a recipe to "
                           "port stops its event)"),
                          ("LoadBasedAutoScaling (CPU)", "stackkit:layers.<name>.load_based"),
                          ("ElasticLoadBalancerAttachment", "stackkit:layers.<name>.load_balancer and layer.yaml "
                           "load_balancer")]
        return out

    def layer_volumes(self, la: Record, name: str, place: str) -> list[dict[str, Any]]:
        out = []
        used: set[str] = set()
        for j, v in enumerate(la.get("VolumeConfigurations") or []):
            mount = str(v.get("MountPoint") or "")
            vname = _slug(mount.strip("/").replace("/", "-") or f"vol{j}", used, "data")
            size = int(v.get("Size") or 1) * max(1, int(v.get("NumberOfDisks") or 1))
            rec: dict[str, Any] = {"name": vname, "mount_point": mount, "size_gb": size}
            vtype = str(v.get("VolumeType") or "gp3")
            rec["type"] = VOLUME_TYPES.get(vtype, "gp3")
            if vtype not in VOLUME_TYPES:
                self.note(f"{place}.VolumeConfigurations[{j}].VolumeType = {vtype}",
                          "magnetic (standard) volumes are not offered: gp3 instead")
            if v.get("Iops") and rec["type"] in ("io1", "io2", "gp3"):
                rec["iops"] = int(v["Iops"])
            if v.get("Encrypted") is not None:
                rec["encrypted"] = _bool(v["Encrypted"])
            if v.get("RaidLevel") not in (None, "", 0, "0") or int(v.get("NumberOfDisks") or 1) > 1:
                self.note(f"{place}.VolumeConfigurations[{j}]: RAID {v.get('RaidLevel')} over "
                          f"{v.get('NumberOfDisks')} disks", f"one volume of the total size ({size} GB) instead")
            out.append(rec)
        return out

    def load_based(self, cfg: Record | None, place: str) -> dict[str, Any] | None:
        if not cfg or not _bool(cfg.get("Enable"), False):
            return None
        out: dict[str, Any] = {}
        for key, sk in (("UpScaling", "up"), ("DownScaling", "down")):
            t = cfg.get(key) or {}
            if t.get("CpuThreshold") is None:
                self.note(f"{place}.{key} has no CPU threshold", "stackkit scales on CPU only: set it by hand")
                return None
            out[sk] = {"cpu": float(t["CpuThreshold"]), "minutes": int(t.get("ThresholdsWaitTime") or 5),
                       "instances": int(t.get("InstanceCount") or 1)}
            if t.get("IgnoreMetricsTime") is not None and "ignore_minutes" not in out:
                out["ignore_minutes"] = int(t["IgnoreMetricsTime"])
            elif t.get("IgnoreMetricsTime") is not None and int(t["IgnoreMetricsTime"]) != out["ignore_minutes"]:
                self.note(f"{place}.{key}.IgnoreMetricsTime = {t['IgnoreMetricsTime']}", "stackkit ignores the "
                          f"alarms for one time after any change: UpScaling's ({out['ignore_minutes']} minutes)")
            for other in ("MemoryThreshold", "LoadThreshold", "Alarms"):
                if t.get(other) not in (None, [], -1, -1.0):
                    self.note(f"{place}.{key}.{other} = {_short(t[other])}", "stackkit scales on CPU only (memory "
                              "and load came from OpsWorks' agent)")
        return out

    def elb(self, elb: Record) -> tuple[int, int, str]:
        listeners = elb.get("Listeners") or []
        first = listeners[0] if listeners else {}
        port = int(first.get("InstancePort") or 80)
        lb_port = int(first.get("LoadBalancerPort") or 80)
        target = str((elb.get("HealthCheck") or {}).get("Target") or "HTTP:80/")
        m = re.match(r"^HTTPS?:\d+(/.*)$", target)
        return port, lb_port, m.group(1) if m else "/"

    # --- instances -------------------------------------------------------------------------------------------------

    def instances(self, stack_os: str) -> dict[str, Any]:
        used: set[str] = set()
        out: dict[str, Any] = {}
        timers = {str(t.get("InstanceId")): t.get("AutoScalingSchedule") or {} for t in self.s.time_based}
        for i, inst in enumerate(self.s.instances):
            place = f"Instances[{i}] ({inst.get('Hostname')})"
            if inst.get("Os"):
                os_ = _os(inst["Os"], f"{place}.Os", self.s.source)
                if os_ != stack_os:
                    self.note(f"{place}.Os = {inst['Os']}", f"every stackkit instance runs the stack's OS "
                              f"({stack_os})")
            name = _slug(inst.get("Hostname") or f"instance{i}", used, "instance")
            self.instance_names[str(inst.get("InstanceId"))] = name
            layers = [self.layer_names[str(lid)] for lid in inst.get("LayerIds") or []
                      if str(lid) in self.layer_names]
            if not layers:
                raise self.fail(place, f"LayerIds {inst.get('LayerIds')} name no layer of the stack")
            rec: dict[str, Any] = {"layers": layers}
            itype = str(inst.get("InstanceType") or "c3.large")
            rec["type"] = _current_type(itype)
            if rec["type"] != itype:
                self.p.check.append(f"stackkit:instances.{name}.type: OpsWorks ran {itype}, a type of an old "
                                    f"generation stackkit does not offer: {rec['type']} is written; check its size")
            az = _az_index(inst.get("AvailabilityZone"))
            if az:
                rec["az"] = az
            if inst.get("Hostname") and inst["Hostname"] != name:
                if re.match(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$", str(inst["Hostname"])):
                    rec["hostname"] = inst["Hostname"]
                else:
                    self.note(f"{place}.Hostname = {inst['Hostname']}", f"not a lowercase host name: {name} instead")
            root = next((b.get("Ebs") or {} for b in inst.get("BlockDeviceMappings") or []
                         if b.get("DeviceName") == "ROOT_DEVICE"), {})
            if root.get("VolumeSize"):
                rec["root_volume_gb"] = min(2048, max(8, int(root["VolumeSize"])))
            scaling = str(inst.get("AutoScalingType") or "")
            if scaling == "timer":
                sched = {"timezone": "UTC"}
                for day, key in DAY_KEYS.items():
                    hours = _hours((timers.get(str(inst.get("InstanceId"))) or {}).get(day) or {})
                    if hours:
                        sched[key] = hours if len(hours) > 1 else hours[0]   # type: ignore[assignment]
                rec["schedule"] = sched
            elif scaling == "load":
                rec["load_based"] = True
            if self.o.adopt and inst.get("Ec2InstanceId") and self.s.adoptable:
                rec["import_id"] = inst["Ec2InstanceId"]
                self.p.adopted.append((f"stackkit:instances.{name}.import_id", str(inst["Ec2InstanceId"])))
                # its SSH host key is its own, not one stackkit derived: pin it by hand
                rec["host_key"] = "unpinned"
                self.p.check.append(
                    f"stackkit:instances.{name}.host_key is unpinned (an adopted instance has its own host key): write "
                    f"its public ed25519 host key there (`ssh-keyscan -t ed25519 {inst.get('PrivateIp') or '<ip>'}`, "
                    "checked on its console); and authorize the stack's ssh_public_key for the instance's user "
                    f"({inst.get('Os') or 'its OS'}) before the first up reaches it over SSH")
            for key in ("SubnetId", "RootDeviceType", "Architecture", "AmiId", "SshKeyName", "EbsOptimized",
                        "Tenancy", "InstallUpdatesOnBoot", "BlockDeviceMappings", "AgentVersion",
                        "VirtualizationType"):
                if inst.get(key) not in (None, "", [], {}):
                    self.note(f"{place}.{key} = {_short(inst[key])}", INSTANCE_NOTES.get(key, "no stackkit "
                                                                                             "equivalent"))
            out[name] = rec
        self.p.mapped += [("Instance.Hostname", "stackkit:instances.<name> (and .hostname)"),
                          ("Instance.InstanceType", "stackkit:instances.<name>.type"),
                          ("Instance.AvailabilityZone", "stackkit:instances.<name>.az (the AZ's letter)"),
                          ("Instance.LayerIds", "stackkit:instances.<name>.layers"),
                          ("Instance.BlockDeviceMappings ROOT_DEVICE VolumeSize", "stackkit:instances.<name>."
                           "root_volume_gb"),
                          ("TimeBasedAutoScaling (UTC hours on)", "stackkit:instances.<name>.schedule"),
                          ("Instance.AutoScalingType load", "stackkit:instances.<name>.load_based"),
                          ("Instance.Ec2InstanceId (--adopt)", "stackkit:instances.<name>.import_id")]
        return out

    # --- registered resources --------------------------------------------------------------------------------------

    def resources(self, instances: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        used: set[str] = set()
        vols: dict[str, Any] = {}
        for i, v in enumerate(self.s.volumes):
            place = f"Volumes[{i}] ({v.get('Name') or v.get('Ec2VolumeId')})"
            owner = self.instance_names.get(str(v.get("InstanceId")))
            if owner is None:
                self.note(f"{place}: not attached to an instance of the stack", "stackkit registers a volume to "
                          "one instance: attach it there and import again, or add it by hand")
                continue
            if v.get("RaidArrayId"):
                self.note(f"{place}: a member of RAID array {v['RaidArrayId']}", "the layer's volume (one volume) "
                          "replaces the array: copy the data over")
                continue
            name = _slug(v.get("Name") or v.get("Ec2VolumeId") or f"volume{i}", used, "volume")
            rec: dict[str, Any] = {"instance": owner, "mount_point": v.get("MountPoint") or f"/mnt/{name}"}
            if v.get("Size") is None:
                self.p.check.append(f"stackkit:resources.volumes.{name}.size_gb: the input does not say the "
                                    "volume's size: 1 is a placeholder; write its size in GB")
            rec["size_gb"] = int(v.get("Size") or 1)
            vtype = str(v.get("VolumeType") or "gp2")
            rec["type"] = VOLUME_TYPES.get(vtype, "gp2")
            if vtype not in VOLUME_TYPES:
                self.note(f"{place}.VolumeType = {vtype}", "magnetic (standard) volumes are not offered: the "
                          "stack file says gp2; adopting keeps the running volume until its type is changed")
            rec["encrypted"] = _bool(v.get("Encrypted"), False)
            if v.get("Iops") and rec["type"] in ("io1", "io2", "gp3"):
                rec["iops"] = int(v["Iops"])
            inst_az = instances[owner].get("az", 0)
            az = _az_index(v.get("AvailabilityZone"))
            if az is not None and az != inst_az:
                rec["az"] = az
            if self.o.adopt and self.s.adoptable and v.get("Ec2VolumeId"):
                rec["import_id"] = v["Ec2VolumeId"]
                if re.match(r"^/dev/(sd|xvd)[b-z]$", str(v.get("Device") or "")):
                    rec["device"] = v["Device"]
                self.p.adopted.append((f"stackkit:resources.volumes.{name}.import_id", str(v["Ec2VolumeId"])))
            vols[name] = rec
        if vols:
            out["volumes"] = vols
        eips: dict[str, Any] = {}
        used = set()
        allocation = {str(a.get("PublicIp")): str(a.get("AllocationId")) for a in self.s.addresses}
        for i, e in enumerate(self.s.elastic_ips):
            name = _slug(e.get("Name") or f"eip-{str(e.get('Ip', i)).replace('.', '-')}", used, "eip")
            rec = {}
            if self.o.adopt and self.s.adoptable:
                alloc = allocation.get(str(e.get("Ip")))
                if alloc:
                    rec["import_id"] = alloc
                    self.p.adopted.append((f"stackkit:resources.elastic_ips.{name}.import_id", alloc))
                else:
                    self.p.check.append(f"Elastic IP {e.get('Ip')}: no allocation id (OpsWorks gives only the "
                                        "address): save `aws ec2 describe-addresses` as ec2-describe-addresses.json "
                                        "to adopt it, else a new address is allocated")
            eips[name] = rec
            if e.get("Domain") == "standard":
                self.note(f"ElasticIps[{i}] {e.get('Ip')}: an EC2-Classic address", "stackkit allocates VPC "
                          "addresses: a new one (EC2-Classic is retired)")
            owner = self.instance_names.get(str(e.get("InstanceId")))
            if owner is not None:
                instances[owner]["elastic_ip"] = name
        if eips:
            out["elastic_ips"] = eips
        dbs: dict[str, Any] = {}
        used = set()
        for i, d in enumerate(self.s.rds_db_instances):
            ident = str(d.get("DbInstanceIdentifier") or str(d.get("RdsDbInstanceArn", "")).rsplit(":", 1)[-1])
            name = _slug(ident, used, "db")
            engine = str(d.get("Engine") or "mysql").lower()
            engine = {"aurora-mysql": "mysql", "aurora": "mysql", "aurora-postgresql": "postgres",
                      "postgresql": "postgres"}.get(engine, engine)
            if engine not in ("postgres", "mysql", "mariadb"):
                raise self.fail(f"RdsDbInstances[{i}] ({ident})", f"engine {engine} is not one stackkit runs "
                                "(postgres, mysql, mariadb)")
            rec = {"engine": engine, "name": "app", "username": re.sub(r"[^A-Za-z0-9_]", "_",
                                                                        str(d.get("DbUser") or "admin"))[:16]}
            if d.get("EngineVersion"):
                rec["engine_version"] = str(d["EngineVersion"])
            else:
                rec["engine_version"] = "16" if engine == "postgres" else "8.0"
                self.p.check.append(f"stackkit:resources.databases.{name}.engine_version is {rec['engine_version']}"
                                    " (OpsWorks does not say the running version): write the database's own")
            if d.get("DBInstanceClass"):
                rec["instance_class"] = d["DBInstanceClass"]
            if d.get("AllocatedStorage"):
                rec["allocated_storage_gb"] = max(20, int(d["AllocatedStorage"]))
            rec["password"] = self.secret(f"stackkit:resources.databases.{name}.password",
                                          "the database's master password (RdsDbInstances.DbPassword)")
            if self.o.adopt and self.s.adoptable:
                rec["import_id"] = ident
                self.p.adopted.append((f"stackkit:resources.databases.{name}.import_id", ident))
            dbs[name] = rec
            self._db_by_arn[str(d.get("RdsDbInstanceArn"))] = name
        if dbs:
            out["databases"] = dbs
        self.p.mapped += [("Volumes (registered)", "stackkit:resources.volumes (import_id with --adopt)"),
                          ("ElasticIps (registered)", "stackkit:resources.elastic_ips and instances.<n>.elastic_ip"),
                          ("RdsDbInstances", "stackkit:resources.databases (import_id with --adopt)")]
        return out

    _db_by_arn: dict[str, str]

    # --- apps ------------------------------------------------------------------------------------------------------

    def apps(self, databases: dict[str, Any]) -> dict[str, Any]:
        used: set[str] = set()
        out: dict[str, Any] = {}
        # OpsWorks deployed an app to the instances of its app server layers; stackkit names the layers: those with
        # deploy recipes of their own, else those of an app server type, else every layer
        deploying = [n for n, la in self.p.layers.items() if any(r.custom for r in la.recipes["deploy"])]
        servers = [n for n, t in self.layer_types.items() if t in APP_SERVER_TYPES]
        layers = deploying or servers or sorted(self.p.layers)
        for i, app in enumerate(self.s.apps):
            place = f"Apps[{i}] ({app.get('Shortname') or app.get('Name')})"
            name = _slug(app.get("Shortname") or app.get("Name") or f"app{i}", used, "app")
            src = app.get("AppSource") or {}
            stype = str(src.get("Type") or "")
            if stype not in ("git", "s3", "archive"):
                self.note(f"{place}.AppSource.Type = {stype or '(none)'}", "stackkit deploys git or archive "
                          "sources only: the app is not imported; add it by hand")
                continue
            if isinstance(src.get("Url"), Secret):
                raise self.fail(f"{place}.AppSource.Url", f"comes from {src['Url'].origin}; stackkit keeps a "
                                "source URL in plain text")
            source: dict[str, Any] = {"type": "git" if stype == "git" else "archive", "url": src.get("Url") or ""}
            if stype == "git":
                source["revision"] = src.get("Revision") or "HEAD"
                if not src.get("Revision"):
                    self.p.check.append(f"stackkit:apps.{name}.source.revision: OpsWorks deployed the default "
                                        "branch; HEAD is written: pin a tag or a branch")
            rec: dict[str, Any] = {"source": source, "layers": list(layers)}
            for key in ("SshKey", "Username", "Password"):
                if src.get(key):
                    self.note(f"{place}.AppSource.{key}", "a private source's credentials: give the deploy user "
                              "access (a deploy key) as docs/porting.md says; not written to the stack file")
            env, secret_env = {}, {}
            for j, e in enumerate(app.get("Environment") or []):
                key = str(e.get("Key"))
                if not ENV_NAME.match(key):
                    self.note(f"{place}.Environment[{j}] {key}", "not a valid environment variable name for "
                              "stackkit: left out")
                    continue
                value = e.get("Value")
                if isinstance(value, AttributeRef):
                    self.p.check.append(f"stackkit:apps.{name}.environment.{key}: OpsWorks set it from "
                                        f"Fn::GetAtt {value}, known only once CloudFormation made it: write its "
                                        "value (a database's address is node.json's deploy[app][database][host])")
                    value = ""
                if _bool(e.get("Secure")) or isinstance(value, Secret) or value == FILTERED:
                    secret_env[key] = self.secret(f"stackkit:apps.{name}.secret_environment.{key}",
                                                  f"app {app.get('Name')} environment {key} (Secure)")
                else:
                    env[key] = str(value if value is not None else "")
            if env:
                rec["environment"] = env
            if secret_env:
                rec["secret_environment"] = secret_env
            domains = [d for d in app.get("Domains") or [] if not domain_problem(str(d))]
            for d in app.get("Domains") or []:
                if domain_problem(str(d)):
                    self.note(f"{place}.Domains: {d}", f"left out: {domain_problem(str(d))}")
            if domains:
                rec["domains"] = domains
            ssl = self.ssl(app, name, place)
            if ssl:
                rec["ssl"] = ssl
            for ds in app.get("DataSources") or []:
                dbname = self._db_by_arn.get(str(ds.get("Arn")))
                if dbname:
                    rec["data_source"] = dbname
                    if ds.get("DatabaseName"):
                        databases[dbname]["name"] = re.sub(r"[^A-Za-z0-9_]", "_", str(ds["DatabaseName"]))[:63]
                elif ds.get("Type") not in (None, "None"):
                    self.note(f"{place}.DataSources {ds.get('Type')} {ds.get('Arn')}", "not a registered RDS "
                              "instance of the stack: left out")
            for key, value in (app.get("Attributes") or {}).items():
                if value not in (None, "", "false"):
                    self.note(f"{place}.Attributes.{key} = {_short(value)}", APP_NOTES.get(key, "no stackkit "
                                                                                           "equivalent"))
            if app.get("Type") not in (None, "other", "static"):
                self.note(f"{place}.Type = {app.get('Type')}", "stackkit apps have no type: the layer's deploy "
                          "script builds and runs the app")
            out[name] = rec
        self.p.mapped += [("App.Shortname", "stackkit:apps.<name>"),
                          ("App.AppSource (git, s3/archive: Url, Revision)", "stackkit:apps.<name>.source"),
                          ("App.Environment", "stackkit:apps.<name>.environment / secret_environment (Secure)"),
                          ("App.Domains", "stackkit:apps.<name>.domains"),
                          ("App.SslConfiguration", "stackkit:apps.<name>.ssl (key a secret)"),
                          ("App.DataSources (RdsDbInstance)", "stackkit:apps.<name>.data_source")]
        return out

    def ssl(self, app: Record, name: str, place: str) -> dict[str, Any] | None:
        if not _bool(app.get("EnableSsl")):
            return None
        cfg = app.get("SslConfiguration") or {}
        cert = cfg.get("Certificate")
        if not isinstance(cert, str) or "BEGIN CERTIFICATE" not in cert:
            self.p.check.append(f"stackkit:apps.{name}.ssl: OpsWorks served TLS but the input has no certificate: "
                                "add ssl (certificate, key as a secret, chain) by hand")
            return None
        # written beside the stack file, set with the key by hand: a stack file cannot hold the key's placeholder
        # (the offline plan checks that a key is PEM, and a placeholder is not)
        self.p.files[f"ssl/{name}.crt"] = cert
        lines = [f"pulumi config set --path 'stackkit:apps.{name}.ssl.certificate' -s {self.o.stack} < ssl/{name}.crt",
                 f"pulumi config set --secret --path 'stackkit:apps.{name}.ssl.key' -s {self.o.stack} < <your key>.pem"]
        chain = cfg.get("Chain")
        if isinstance(chain, str) and "BEGIN CERTIFICATE" in chain:
            self.p.files[f"ssl/{name}.chain.crt"] = chain
            lines.append(f"pulumi config set --path 'stackkit:apps.{name}.ssl.chain' -s {self.o.stack} "
                         f"< ssl/{name}.chain.crt")
        self.p.check.append(f"stackkit:apps.{name}.ssl: OpsWorks served TLS with the certificate saved in "
                            f"ssl/{name}.crt; the private key is not in the input (SslConfiguration.PrivateKey): set "
                            "both: " + "; ".join(f"`{c}`" for c in lines))
        return None

    def unused_databases(self, resources: dict[str, Any], apps: dict[str, Any]) -> None:
        used = {a.get("data_source") for a in apps.values()}
        dbs = resources.get("databases", {})
        for name in sorted(dbs):
            if name not in used:
                del dbs[name]
                self.p.secrets = [s for s in self.p.secrets if not s[0].startswith(f"stackkit:resources.databases."
                                                                                   f"{name}.")]
                self.p.adopted = [a for a in self.p.adopted if not a[0].startswith(f"stackkit:resources.databases."
                                                                                   f"{name}.")]
                self.note(f"RdsDbInstances {name}", "registered but no app's data source: stackkit keeps a database "
                          "for the apps that use it; add it under resources.databases with an app's data_source")
        if not dbs:
            resources.pop("databases", None)

    def reachable(self, layers: dict[str, Any], instances: dict[str, Any]) -> None:
        """stackkit reaches private instances over SSH through a public one: OpsWorks' web server layers opened 80 and
        443 to the internet (their default security groups); without any public instance, the first layer that
        auto-assigned public IPs (else the first layer) gets Elastic IPs, and the report says so."""
        for name, layer in self.p.layers.items():
            if self.layer_types[name] in WEB_TYPES and "load_balancer" not in layer.spec:
                layer.spec["ports"] = [{"port": 80, "from": "internet", "description": "HTTP"},
                                       {"port": 443, "from": "internet", "description": "HTTPS"}]
        public = {n for n, la in self.p.layers.items() if la.spec.get("ports") or layers[n].get("elastic_ips")}
        if any(set(i["layers"]) & public or i.get("elastic_ip") for i in instances.values()):
            return
        auto = [n for n, la in zip(self.p.layers, self.s.layers, strict=True) if _bool(la.get("AutoAssignPublicIps"))]
        used = [n for n in (auto or list(self.p.layers)) if any(n in i["layers"] for i in instances.values())]
        claimed = {i.get("elastic_ip") for i in instances.values()}
        free = [e for e in (self.p.config_resources.get("elastic_ips") or {}) if e not in claimed]
        if used and free:
            # a registered address no instance holds: to the first instance of that layer, nothing new allocated
            first = next(n for n, i in instances.items() if used[0] in i["layers"])
            instances[first]["elastic_ip"] = free[0]
            self.p.check.append(f"stackkit:instances.{first}.elastic_ip is {free[0]} (a registered address no "
                                "instance held) so that one instance is public: stackkit reaches the private ones "
                                "over SSH through it (OpsWorks gave instances public IPs); move it if you like")
        elif used:
            layers[used[0]]["elastic_ips"] = True
            self.p.check.append(f"stackkit:layers.{used[0]}.elastic_ips is true so that one instance is public: "
                                "stackkit reaches the private ones over SSH through it (OpsWorks gave instances "
                                "public IPs); change it to the layer you want public")

    # --- users -----------------------------------------------------------------------------------------------------

    def users(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        perms = {str(p.get("IamUserArn")): p for p in self.s.permissions}
        from stackkit.config.users import USER_NAME, public_key_problem
        for i, u in enumerate(self.s.user_profiles):
            who = str(u.get("SshUsername") or u.get("Name") or "")
            place = f"UserProfiles[{i}] ({who})"
            perm = perms.get(str(u.get("IamUserArn")))
            if perm is not None and not _bool(perm.get("AllowSsh")):
                continue
            key = u.get("SshPublicKey")
            if not key or public_key_problem(str(key).strip()):
                self.note(place, "no usable SSH public key: the user is not imported")
                continue
            if not USER_NAME.match(who):
                self.note(place, "not a Linux user name stackkit accepts: left out")
                continue
            out[who] = {"ssh_public_key": str(key).strip(), "sudo": bool(perm and _bool(perm.get("AllowSudo")))}
            if perm is None:
                self.p.check.append(f"stackkit:users.{who}: the input has no stack permission for this user "
                                    "(a template has none): imported with SSH, without sudo")
        self.p.mapped += [("UserProfile.SshUsername, SshPublicKey", "stackkit:users.<name>.ssh_public_key"),
                          ("Permission.AllowSudo (AllowSsh)", "stackkit:users.<name>.sudo (only users allowed SSH)")]
        return out


STACK_NOTES = {
    "DefaultSshKeyName": "an EC2 key pair name; stackkit makes its own key pair from ssh_public_key",
    "HostnameTheme": "stackkit names instances after their stack file keys",
    "ServiceRoleArn": "OpsWorks' service role: not needed",
    "DefaultInstanceProfileArn": "stackkit makes the instances' own profile",
    "ConfigurationManager": "Chef is gone: the recipes become bash scripts (docs/porting.md)",
    "ChefConfiguration": "Chef is gone (Berkshelf too)",
    "UseCustomCookbooks": "the custom recipes are listed per event in layers/<name>/",
    "CustomCookbooksSource": "the cookbooks to port from (docs/porting.md); scan them with --cookbooks DIR",
    "DefaultRootDeviceType": "stackkit instances are EBS-backed (root_volume_gb)",
    "DefaultAvailabilityZone": "instances take their AZ from their own AvailabilityZone",
    "DefaultSubnetId": "stackkit places instances in its own subnets (see Stack.VpcId)",
    "AgentVersion": "the OpsWorks agent is gone",
    "UseOpsworksSecurityGroups": "stackkit makes one security group per layer from layer.yaml ports",
    "Attributes": "OpsWorks' own stack attributes (Color...): no equivalent",
}
LAYER_NOTES = {
    "AutoAssignPublicIps": "an instance is public when a layer opens a port to the internet or has Elastic IPs",
    "CustomSecurityGroupIds": "stackkit's layer security group is made from layer.yaml ports: add the rules there",
    "DefaultSecurityGroupNames": "OpsWorks' own groups: replaced by the layer's group",
    "CustomInstanceProfileArn": "stackkit makes the instances' profile",
    "InstallUpdatesOnBoot": "stackkit installs packages at setup; OS updates are yours",
    "UseEbsOptimizedInstances": "current instance types are EBS-optimized",
    "Attributes": "built-in layer attributes: no equivalent",
    "CloudWatchLogsConfiguration": "no log shipping in stackkit",
}
INSTANCE_NOTES = {
    "SubnetId": "stackkit places the instance in its AZ's subnet",
    "RootDeviceType": "stackkit instances are EBS-backed (root_volume_gb, default 16)",
    "Architecture": "stackkit picks the image for the instance type",
    "AmiId": "stackkit picks the image for the stack's OS",
    "SshKeyName": "the stack's key pair instead",
    "BlockDeviceMappings": "the root volume's size is root_volume_gb; other devices: registered volumes instead",
}
APP_NOTES = {
    "DocumentRoot": "the layer's templates decide the document root (deploy_to/current/...)",
    "RailsEnv": "set RAILS_ENV in the app's environment",
    "AutoBundleOnDeploy": "the layer's deploy script runs bundle install",
}


# an old generation's family -> the current one of the same kind (instance_types lists the current generations)
CURRENT_FAMILY = {"t1": "t3", "t2": "t3", "m1": "m5", "m2": "r5", "m3": "m5", "m4": "m5", "c1": "c5", "c3": "c5",
                  "c4": "c5", "r3": "r5", "r4": "r5", "cc2": "c5", "cr1": "r5", "hi1": "m5", "hs1": "m5"}


def _current_type(itype: str) -> str:
    if instance_types.known(itype):
        return itype
    family, _, size = itype.partition(".")
    size = {"micro": "micro"}.get(size, size)
    new = f"{CURRENT_FAMILY.get(family, 't3')}.{size}"
    if instance_types.known(new):
        return new
    return "t3.small" if size in ("nano", "micro", "small") else "m5.large"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def project(snap: Snapshot, opts: Options) -> Project:
    """The stackkit project for `snap`, or an OpsWorksImportError naming the place."""
    m = _Mapper(snap, opts)
    m._db_by_arn = {}
    if not snap.region:
        raise m.fail("Stack.Region", "unknown region: give --region")
    stack = m.stack()
    layers = m.layers()
    if not layers:
        raise m.fail("Layers", "the stack has no layer: nothing to import")
    instances = m.instances(stack["os"])
    if not instances:
        raise m.fail("Instances", "the stack has no instance: add one to the stack file after importing (stackkit "
                     "needs at least one)")
    resources = m.resources(instances)
    m.p.config_resources = resources
    apps = m.apps(resources.get("databases", {}))
    m.unused_databases(resources, apps)
    m.reachable(layers, instances)
    users = m.users()
    cfg: dict[str, Any] = {"aws:region": snap.region, "stackkit:stack": stack, "stackkit:layers": layers,
                           "stackkit:instances": instances}
    if apps:
        cfg["stackkit:apps"] = apps
    if resources:
        cfg["stackkit:resources"] = resources
    if users:
        cfg["stackkit:users"] = users
    m.p.config = cfg
    m.p.reported += [("note", n) for n in snap.notes]
    if opts.adopt and not snap.adoptable:
        m.p.check.append("--adopt: a template holds no running resource's id; adopt from describe output or the "
                         "live API")
    return m.p
