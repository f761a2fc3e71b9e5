"""The stand-in `aws` provider: the resource types and invokes the program uses, for the real engine.

- Check: pulumi-aws's auto-naming (keep the old name; a new one from the engine's random seed when there is none,
  as on a replacement) and AWS's input rules (validation.py), failures naming the property and the rule.
- Diff: per input property; a change replaces when AWS's facts say pulumi-aws would (stackkit.aws.replacement).
- Create/Read/Update/Delete: recorded in the local cloud with AWS-shaped ids and ARNs (cloud.py; secrets redacted);
  what instances are (machines, records-only hosts, nothing) is the cloud's mode: cloud.py says what each type does.
- Invoke: availability zones, AMIs, region, caller identity.

Secrets: it takes them as the engine marks them (accept_secrets) and gives every output of a secret input back
secret (values.py); what it writes down never holds one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pulumi
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from stackkit.aws.replacement import REPLACES, UNKNOWN, replaces
from stackkit.cluster.hostkeys import from_cloud_config, hostname_of
from stackkit.local.aws import validation
from stackkit.local.aws.cloud import ACCOUNT, HOSTS, MACHINES, Cloud, new_id
from stackkit.local.aws.kinds import TYPES
from stackkit.local.aws.values import (
    ARCHIVE_KEY,
    CONTENT_KEY,
    REDACTED,
    content_digest,
    digests_of,
    has_unknown,
    map_from_py,
    map_to_py,
    normal,
    redacted,
    reveal,
)
from stackkit.local.playback import invoke as play_invocation

INPUTS_KEY = "__inputs"   # which output keys were inputs (pulumi-aws keeps its own bookkeeping in __meta)
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
INVOCATION = "aws:lambda/invocation:Invocation"


def rtype(request: Any) -> str:
    """The resource's own type token (the URN's type is qualified by its parents': Stack$aws:ec2/vpc:Vpc)."""
    return str(request.type).rsplit("$", 1)[-1]


def autoname(logical: str, seed: bytes, limit: int) -> str:
    suffix = hashlib.sha256(seed or secrets.token_bytes(16)).hexdigest()[:7]
    return f"{logical[:max(1, limit - 8)]}-{suffix}"


def recovers(alarm: dict[str, Any]) -> bool:
    """An alarm whose action is EC2's recover action (stackkit.components.healing: arn:<partition>:automate:...)."""
    return any(str(a).endswith(":ec2:recover") for a in alarm.get("alarmActions") or [])


class StandInAws(Provider):
    def __init__(self, folder: Path) -> None:
        self.cloud = Cloud(folder)
        self.region = "us-east-1"

    # --- provider config -------------------------------------------------------------------------------------------
    async def check_config(self, request: CheckRequest) -> CheckResponse:
        news = reveal(map_to_py(request.new_inputs))
        region = news.get("region")
        if isinstance(region, str) and region not in validation.REGIONS:
            return CheckResponse(inputs=request.new_inputs, failures=[CheckFailure(
                "region", f"{region!r} is not an AWS region (known: {', '.join(sorted(validation.REGIONS))})")])
        return CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        old, new = map_to_py(request.old_state).get("region"), map_to_py(request.new_inputs).get("region")
        changed = normal(old) != normal(new)
        # pulumi-aws: another region is another provider, so every resource it manages is replaced
        return DiffResponse(changes=changed, diffs=["region"] if changed else [],
                            replaces=["region"] if changed else [])

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        region = reveal(map_to_py(request.args)).get("region") or request.variables.get("aws:config:region")
        if isinstance(region, str) and region:
            self.region = region
        if self.cloud.mode == HOSTS:
            await self.cloud.hosts.start_all()     # the recorded instances answer again (a later up, a destroy)
        return ConfigureResponse(accept_secrets=True, supports_preview=True, accept_resources=False)

    # --- check and diff ----------------------------------------------------------------------------------------------
    async def check(self, request: CheckRequest) -> CheckResponse:
        type_ = rtype(request)
        if type_ not in TYPES:
            return CheckResponse(inputs=request.new_inputs, failures=[CheckFailure(
                "", f"{type_}: the local cloud's stand-in for pulumi-aws does not implement this type "
                    "(stackkit/local/aws/kinds.py lists the ones it does)")])
        news = map_to_py(request.new_inputs)
        olds = map_to_py(request.old_inputs)
        info = TYPES[type_]
        if info.autoname and news.get(info.autoname) is None:
            news[info.autoname] = olds.get(info.autoname) or autoname(request.name, request.random_seed,
                                                                       info.autoname_max)
        failures = [CheckFailure(p, r) for p, r in validation.check(type_, reveal(news))]
        return CheckResponse(inputs=map_from_py(news), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        type_ = rtype(request)
        olds = map_to_py(request.old_state)
        news = map_to_py(request.new_inputs)
        keys = sorted(set(news) | set(olds.get(INPUTS_KEY) or []))
        stored = olds.get(CONTENT_KEY) or {}
        detailed: dict[str, PropertyDiff] = {}
        replace_keys: list[str] = []
        for k in keys:
            o, n = olds.get(k), news.get(k)
            if k in stored and isinstance(n, (pulumi.Asset, pulumi.Archive)):
                if stored[k] == content_digest(n):
                    continue       # an archive the engine stored by its hash: the same content
                o = stored[k]
            elif not has_unknown(n) and normal(o) == normal(n):
                continue
            replace = replaces(type_, k, reveal(o), UNKNOWN if has_unknown(n) else reveal(n)) \
                if type_ in REPLACES else False
            if o is None:
                kind = PropertyDiffKind.ADD_REPLACE if replace else PropertyDiffKind.ADD
            elif n is None:
                kind = PropertyDiffKind.DELETE_REPLACE if replace else PropertyDiffKind.DELETE
            else:
                kind = PropertyDiffKind.UPDATE_REPLACE if replace else PropertyDiffKind.UPDATE
            detailed[k] = PropertyDiff(kind, input_diff=True)
            if replace:
                replace_keys.append(k)
        return DiffResponse(changes=bool(detailed), replaces=replace_keys, diffs=list(detailed),
                            detailed_diff=detailed)

    # --- create, read, update, delete --------------------------------------------------------------------------------
    async def create(self, request: CreateRequest) -> CreateResponse:
        type_ = rtype(request)
        props = map_to_py(request.properties)
        if request.preview:
            return CreateResponse(resource_id="", properties=map_from_py(self._computed(type_, "", props, preview=True)))
        info = TYPES[type_]
        if info.id_from:
            id_ = str(reveal(props[info.id_from]))
        elif info.id_prefix:
            id_ = new_id(info.id_prefix)
        else:
            id_ = ""
        out = self._computed(type_, id_, props, preview=False)
        id_ = id_ or reveal(out.get("arn")) or new_id(request.name)
        out["id"] = id_
        out[CONTENT_KEY] = digests_of(props)
        await self._act(type_, id_, out, old=None)
        self.cloud.put(id_, type_, redacted(out))
        return CreateResponse(resource_id=id_, properties=map_from_py(out))

    async def read(self, request: ReadRequest) -> ReadResponse:
        recorded = self.cloud.get(request.resource_id)
        if recorded is None:
            return ReadResponse(resource_id="")   # gone
        old = map_to_py(request.properties)
        # what the records redacted is what the state holds (the cloud never keeps a secret, nor a function's code)
        props = {k: old[k] if (v == REDACTED or isinstance(v, dict) and ARCHIVE_KEY in v) and k in old else v
                 for k, v in recorded.items()}
        inputs = {k: props[k] for k in props.get(INPUTS_KEY, []) if k in props}
        return ReadResponse(resource_id=request.resource_id, properties=map_from_py(props), inputs=map_from_py(inputs))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        type_ = rtype(request)
        olds = map_to_py(request.olds)
        news = map_to_py(request.news)
        out = {**{k: v for k, v in olds.items() if k not in olds.get(INPUTS_KEY, [])}, **news,
               INPUTS_KEY: sorted(news), CONTENT_KEY: digests_of(news)}
        if "tags" in news:
            out["tagsAll"] = news["tags"]
        if not request.preview:
            await self._act(type_, request.resource_id, out, old=olds)
            self.cloud.put(request.resource_id, type_, redacted(out))
        return UpdateResponse(properties=map_from_py(out))

    async def delete(self, request: DeleteRequest) -> None:
        type_ = rtype(request)
        props = map_to_py(request.properties)
        await self._act_delete(type_, request.resource_id, props)
        self.cloud.drop(request.resource_id)

    # --- invokes -----------------------------------------------------------------------------------------------------
    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        args = reveal(map_to_py(request.args))
        tok = request.tok
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{c}" for c in "abc"]
            out: dict[str, Any] = {"id": self.region, "names": names, "zoneIds": [f"use1-az{i}" for i in (1, 2, 3)],
                                   "groupNames": [self.region], "state": args.get("state")}
        elif tok == "aws:ec2/getAmi:getAmi":
            key = repr(sorted((f.get("name"), tuple(f.get("values", []))) for f in args.get("filters") or []))
            digest = hashlib.sha256(f"{self.region}{key}".encode()).hexdigest()
            arch = next((f["values"][0] for f in args.get("filters") or [] if f.get("name") == "architecture"), "x86_64")
            out = {"id": f"ami-{digest[:17]}", "imageId": f"ami-{digest[:17]}", "architecture": arch,
                   "name": "debian-12-local", "owners": args.get("owners") or [], "mostRecent": True}
        elif tok == "aws:index/getRegion:getRegion":
            out = {"id": self.region, "name": self.region, "region": self.region,
                   "endpoint": f"ec2.{self.region}.amazonaws.com", "description": self.region}
        elif tok == "aws:index/getCallerIdentity:getCallerIdentity":
            out = {"id": ACCOUNT, "accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/local", "userId": "LOCAL"}
        else:
            return InvokeResponse(failures=[CheckFailure("", f"{tok}: not implemented by the local cloud's stand-in")])
        return InvokeResponse(return_value=map_from_py(out))

    # --- what AWS computes -------------------------------------------------------------------------------------------
    def _computed(self, type_: str, id_: str, props: dict[str, Any], preview: bool) -> dict[str, Any]:
        info = TYPES[type_]
        out = {**props, INPUTS_KEY: sorted(props), "tagsAll": props.get("tags") or {}}
        plain = reveal(props)

        def val(v: Any) -> Any:
            return UNKNOWN if preview else v
        h = secrets.token_hex(8)
        name = plain.get(info.autoname) if info.autoname else id_
        if info.arn:
            out["arn"] = val(info.arn.format(region=self.region, account=ACCOUNT, id=id_, name=name, hex=h,
                                             hex2=secrets.token_hex(8)))
        if type_ == INSTANCE:
            subnet = self.cloud.get(str(plain.get("subnetId")))
            out["availabilityZone"] = plain.get("availabilityZone") or (subnet or {}).get("availabilityZone") \
                or f"{self.region}a"
            for k in ("privateIp", "publicIp", "privateDns", "publicDns", "primaryNetworkInterfaceId"):
                out[k] = UNKNOWN
            out["instanceState"] = val("running")
        elif type_ == EIP:
            out["allocationId"] = val(id_)
            out["publicIp"] = UNKNOWN
            out["publicDns"] = UNKNOWN
        elif type_ == "aws:ec2/keyPair:KeyPair":
            out["keyPairId"] = val(id_)
            out["fingerprint"] = val(hashlib.md5(str(plain.get("publicKey")).encode()).hexdigest())  # noqa: S324
        elif type_ == "aws:lb/loadBalancer:LoadBalancer":
            out["dnsName"] = val(f"{name}-{int(h[:8], 16) % 10**9}.{self.region}.elb.amazonaws.com")
            out["zoneId"] = val("Z32O12XQLNTSW2")
            out["arnSuffix"] = val(f"app/{name}/{h}")
        elif type_ == "aws:lb/targetGroup:TargetGroup":
            out["arnSuffix"] = val(f"targetgroup/{name}/{h}")
        elif type_ == "aws:rds/instance:Instance":
            port = plain.get("port") or (5432 if plain.get("engine") == "postgres" else 3306)
            address = f"{name}.c{h[:10]}.{self.region}.rds.amazonaws.com"
            out.update(port=port, address=val(address), endpoint=val(f"{address}:{int(port)}"),
                       resourceId=val(f"db-{h.upper()}"))
        elif type_ == "aws:ec2/securityGroup:SecurityGroup":
            out["ownerId"] = ACCOUNT
        elif type_ == INVOCATION:
            out["result"] = val(json.dumps({"local": "recorded"}))
        elif type_ == EIP_ASSOCIATION and not preview:
            out["publicIp"] = (self.cloud.get(str(plain.get("allocationId"))) or {}).get("publicIp")
        if not preview and type_ in (INSTANCE, EIP):
            out.update(self._addresses(type_, id_, plain))
        return out

    def _addresses(self, type_: str, id_: str, props: dict[str, Any]) -> dict[str, Any]:
        hosted = self.cloud.mode in (MACHINES, HOSTS)
        if type_ == EIP:
            ip = self.cloud.allocate_address() if hosted else _documentation_ip(id_, 100)
            return {"publicIp": ip, "publicDns": f"ec2-{ip.replace('.', '-')}.compute-1.amazonaws.com"}
        ip = self.cloud.allocate_address() if hosted else _documentation_ip(id_, 10)
        public = ip if props.get("associatePublicIpAddress", True) else ""
        return {"privateIp": ip, "publicIp": public, "privateDns": f"ip-{ip.replace('.', '-')}.ec2.internal",
                "publicDns": f"ec2-{public.replace('.', '-')}.compute-1.amazonaws.com" if public else "",
                "primaryNetworkInterfaceId": new_id("eni")}

    # --- what happens on this host -----------------------------------------------------------------------------------
    async def _act(self, type_: str, id_: str, out: dict[str, Any], old: dict[str, Any] | None) -> None:
        mode = self.cloud.mode
        plain = reveal(out)
        if mode == HOSTS and type_ == INSTANCE and old is None:
            key = from_cloud_config(plain.get("userData"))
            if key is not None:
                self.cloud.hosts.keep_key(id_, plain["privateIp"], key.private)
                await self.cloud.hosts.start(id_)
        elif mode == HOSTS and type_ == EIP_ASSOCIATION and old is None and plain.get("publicIp"):
            await self.cloud.hosts.add_address(plain["instanceId"], plain["publicIp"])
        if mode != MACHINES:
            return
        await asyncio.to_thread(self._machines, type_, id_, plain, reveal(old) if old is not None else None)

    def _machines(self, type_: str, id_: str, out: dict[str, Any], old: dict[str, Any] | None) -> None:
        fleet = self.cloud.fleet()
        if type_ == INSTANCE and old is None:
            key = self.cloud.find("aws:ec2/keyPair:KeyPair", keyName=out.get("keyName"))
            # as cloud-init: the hostname and the SSH host key of its user data, the key pair's key for its user
            fleet.boot(id_, out["privateIp"], hostname=hostname_of(out.get("userData")) or id_,
                       authorized_key=key[1]["publicKey"] if key else "", host_key=from_cloud_config(out.get("userData")))
        elif type_ == VOLUME and old is None:
            self.cloud.volume_dir(id_).mkdir(parents=True, exist_ok=True)
        elif type_ == ATTACHMENT and old is None:
            self.cloud.attach(out["instanceId"], out["volumeId"], out["deviceName"])
        elif type_ == EIP_ASSOCIATION and old is None:
            fleet.add_address(out["instanceId"], out["publicIp"])
        elif type_ == ALARM:
            # EC2's recover action: the machine of the alarm's InstanceId is watched while the alarm is
            before = recovers(old or {}) and (old or {}).get("dimensions", {}).get("InstanceId")
            now = recovers(out) and out.get("dimensions", {}).get("InstanceId")
            if before and before != now:
                fleet.heal(before, False)
            if now:
                fleet.heal(now, True)
        elif type_ == INVOCATION and old is None:
            play_invocation(self.cloud, json.loads(out.get("input") or "{}"))

    async def _act_delete(self, type_: str, id_: str, props: dict[str, Any]) -> None:
        plain = reveal(props)
        mode = self.cloud.mode
        if type_ == INSTANCE and mode == HOSTS:
            await self.cloud.hosts.stop(id_)
        elif type_ == EIP_ASSOCIATION and mode == HOSTS and plain.get("publicIp"):
            await self.cloud.hosts.add_address(plain["instanceId"], plain["publicIp"], add=False)
        if type_ in (INSTANCE, EIP) and mode in (MACHINES, HOSTS):
            self.cloud.release(str(plain.get("privateIp") if type_ == INSTANCE else plain.get("publicIp")))
        if mode == MACHINES:
            await asyncio.to_thread(self._machines_delete, type_, id_, plain)

    def _machines_delete(self, type_: str, id_: str, props: dict[str, Any]) -> None:
        fleet = self.cloud.fleet()
        if type_ == INSTANCE:
            fleet.destroy(id_)
        elif type_ == ATTACHMENT:
            self.cloud.detach(props["instanceId"], props["deviceName"],
                              stop_first=bool(props.get("stopInstanceBeforeDetaching")))
        elif type_ == EIP_ASSOCIATION:
            eip = self.cloud.get(props["allocationId"]) or {}
            if eip.get("publicIp"):
                fleet.add_address(props["instanceId"], eip["publicIp"], add=False)
        elif type_ == VOLUME:
            shutil.rmtree(self.cloud.volume_dir(id_), ignore_errors=True)
        elif type_ == ALARM and recovers(props):
            fleet.heal(str(props.get("dimensions", {}).get("InstanceId")), False)


def _documentation_ip(id_: str, base: int) -> str:
    """Recorded-only addresses: from TEST-NET-2 (RFC 5737), never routed."""
    return f"198.51.100.{base + int(hashlib.sha256(id_.encode()).hexdigest(), 16) % 100}"


def folder() -> Path:
    path = os.environ.get("STACKKIT_LOCAL_CLOUD")
    if not path:
        raise SystemExit("pulumi-resource-aws (stackkit's local cloud): STACKKIT_LOCAL_CLOUD is not set; "
                         "this plugin is only for the local stack (stackkit local up)")
    return Path(path)
