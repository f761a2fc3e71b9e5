"""The stand-in `aws` provider: the resource types and invokes the program uses, for the real engine.

- Check: pulumi-aws's auto-naming (keep the old name; a new one from the engine's random seed when there is none,
  as on a replacement) and AWS's input rules (rules.py), failures naming the property and the rule.
- Diff: per input property; a change replaces when schema.py says pulumi-aws would (one table, cited there).
- Create/Update/Delete: recorded in the local cloud with AWS-shaped ids and ARNs; instances, volumes, attachments
  and Elastic IP associations act on this host's machines (cloud.py) when the local cloud has machines.
- Invoke: availability zones, AMIs, region, caller identity.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

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

from stackkit.engine.aws import rules
from stackkit.engine.aws.cloud import ACCOUNT, Cloud, new_id
from stackkit.engine.aws.schema import TYPES, replaces
from stackkit.engine.aws.values import UNKNOWN, has_unknown, map_from_py, map_to_py, normal

INPUTS_KEY = "__inputs"   # which output keys were inputs (pulumi-aws keeps its own bookkeeping in __meta)
INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
EIP = "aws:ec2/eip:Eip"
EIP_ASSOCIATION = "aws:ec2/eipAssociation:EipAssociation"


def rtype(request: Any) -> str:
    """The resource's own type token (the URN's type is qualified by its parents': Stack$aws:ec2/vpc:Vpc)."""
    return str(request.type).rsplit("$", 1)[-1]


def autoname(logical: str, seed: bytes, limit: int) -> str:
    suffix = hashlib.sha256(seed or secrets.token_bytes(16)).hexdigest()[:7]
    return f"{logical[:max(1, limit - 8)]}-{suffix}"


class StandInAws(Provider):
    def __init__(self, folder: Path) -> None:
        self.cloud = Cloud(folder)
        self.region = "us-east-1"

    # --- provider config -------------------------------------------------------------------------------------------
    async def check_config(self, request: CheckRequest) -> CheckResponse:
        news = map_to_py(request.new_inputs)
        region = news.get("region")
        if isinstance(region, str) and region not in rules.REGIONS:
            return CheckResponse(inputs=request.new_inputs, failures=[CheckFailure(
                "region", f"{region!r} is not an AWS region (known: {', '.join(sorted(rules.REGIONS))})")])
        return CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        old, new = map_to_py(request.old_state).get("region"), map_to_py(request.new_inputs).get("region")
        changed = normal(old) != normal(new)
        # pulumi-aws: another region is another provider, so every resource it manages is replaced
        return DiffResponse(changes=changed, diffs=["region"] if changed else [],
                            replaces=["region"] if changed else [])

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        region = map_to_py(request.args).get("region") or request.variables.get("aws:config:region")
        if isinstance(region, str) and region:
            self.region = region
        # secrets: the engine strips them on the way in and marks the outputs of secret inputs secret again
        return ConfigureResponse(accept_secrets=False, supports_preview=True, accept_resources=False)

    # --- check and diff ----------------------------------------------------------------------------------------------
    async def check(self, request: CheckRequest) -> CheckResponse:
        type_ = rtype(request)
        if type_ not in TYPES:
            return CheckResponse(inputs=request.new_inputs, failures=[CheckFailure(
                "", f"{type_}: the local cloud's stand-in for pulumi-aws does not implement this type "
                    "(stackkit/engine/aws/schema.py lists the ones it does)")])
        news = map_to_py(request.new_inputs)
        olds = map_to_py(request.old_inputs)
        info = TYPES[type_]
        if info.autoname and news.get(info.autoname) is None:
            news[info.autoname] = olds.get(info.autoname) or autoname(request.name, request.random_seed,
                                                                       info.autoname_max)
        failures = [CheckFailure(p, r) for p, r in rules.check(type_, news)]
        return CheckResponse(inputs=map_from_py(news), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        type_ = rtype(request)
        olds = map_to_py(request.old_state)
        news = map_to_py(request.new_inputs)
        keys = sorted(set(news) | set(olds.get(INPUTS_KEY) or []))
        detailed: dict[str, PropertyDiff] = {}
        replace_keys: list[str] = []
        for k in keys:
            o, n = olds.get(k), news.get(k)
            if not has_unknown(n) and normal(o) == normal(n):
                continue
            replace = replaces(type_, k, o, UNKNOWN if has_unknown(n) else n) if type_ in TYPES else False
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
            id_ = props[info.id_from]
        elif info.id_prefix:
            id_ = new_id(info.id_prefix)
        else:
            id_ = ""
        out = self._computed(type_, id_, props, preview=False)
        id_ = id_ or out.get("arn") or new_id(request.name)
        out["id"] = id_
        if self.cloud.machine_settings() is not None:
            await asyncio.to_thread(self._act_create, type_, id_, out)
        self.cloud.put(id_, type_, out)
        return CreateResponse(resource_id=id_, properties=map_from_py(out))

    async def read(self, request: ReadRequest) -> ReadResponse:
        props = self.cloud.get(request.resource_id)
        if props is None:
            return ReadResponse(resource_id="")   # gone
        inputs = {k: props[k] for k in props.get(INPUTS_KEY, []) if k in props}
        return ReadResponse(resource_id=request.resource_id, properties=map_from_py(props), inputs=map_from_py(inputs))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        olds = map_to_py(request.olds)
        news = map_to_py(request.news)
        out = {**{k: v for k, v in olds.items() if k not in olds.get(INPUTS_KEY, [])}, **news,
               INPUTS_KEY: sorted(news)}
        if "tags" in news:
            out["tagsAll"] = news["tags"]
        if not request.preview:
            self.cloud.put(request.resource_id, rtype(request), out)
        return UpdateResponse(properties=map_from_py(out))

    async def delete(self, request: DeleteRequest) -> None:
        props = map_to_py(request.properties)
        if self.cloud.machine_settings() is not None:
            await asyncio.to_thread(self._act_delete, rtype(request), request.resource_id, props)
        self.cloud.drop(request.resource_id)

    # --- invokes -----------------------------------------------------------------------------------------------------
    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        args = map_to_py(request.args)
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

        def val(v: Any) -> Any:
            return UNKNOWN if preview else v
        h = secrets.token_hex(8)
        name = props.get(info.autoname) if info.autoname else id_
        if info.arn:
            out["arn"] = val(info.arn.format(region=self.region, account=ACCOUNT, id=id_, name=name, hex=h,
                                             hex2=secrets.token_hex(8)))
        if type_ == INSTANCE:
            subnet = self.cloud.get(str(props.get("subnetId")))
            out["availabilityZone"] = props.get("availabilityZone") or (subnet or {}).get("availabilityZone") \
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
            out["fingerprint"] = val(hashlib.md5(str(props.get("publicKey")).encode()).hexdigest())  # noqa: S324
        elif type_ == "aws:lb/loadBalancer:LoadBalancer":
            out["dnsName"] = val(f"{name}-{int(h[:8], 16) % 10**9}.{self.region}.elb.amazonaws.com")
            out["zoneId"] = val("Z32O12XQLNTSW2")
            out["arnSuffix"] = val(f"app/{name}/{h}")
        elif type_ == "aws:lb/targetGroup:TargetGroup":
            out["arnSuffix"] = val(f"targetgroup/{name}/{h}")
        elif type_ == "aws:rds/instance:Instance":
            port = props.get("port") or (5432 if props.get("engine") == "postgres" else 3306)
            address = f"{name}.c{h[:10]}.{self.region}.rds.amazonaws.com"
            out.update(port=port, address=val(address), endpoint=val(f"{address}:{int(port)}"),
                       resourceId=val(f"db-{h.upper()}"))
        elif type_ == "aws:ec2/securityGroup:SecurityGroup":
            out["ownerId"] = ACCOUNT
        if not preview and type_ in (INSTANCE, EIP):
            out.update(self._addresses(type_, id_, props))
        return out

    def _addresses(self, type_: str, id_: str, props: dict[str, Any]) -> dict[str, Any]:
        machines = self.cloud.machine_settings() is not None
        if type_ == EIP:
            ip = self.cloud.allocate_address() if machines else _documentation_ip(id_, 100)
            return {"publicIp": ip, "publicDns": f"ec2-{ip.replace('.', '-')}.compute-1.amazonaws.com"}
        ip = self.cloud.allocate_address() if machines else _documentation_ip(id_, 10)
        public = ip if props.get("associatePublicIpAddress", True) else ""
        return {"privateIp": ip, "publicIp": public, "privateDns": f"ip-{ip.replace('.', '-')}.ec2.internal",
                "publicDns": f"ec2-{public.replace('.', '-')}.compute-1.amazonaws.com" if public else "",
                "primaryNetworkInterfaceId": new_id("eni")}

    # --- what happens on this host -----------------------------------------------------------------------------------
    def _act_create(self, type_: str, id_: str, out: dict[str, Any]) -> None:
        if type_ == INSTANCE:
            key = self.cloud.find("aws:ec2/keyPair:KeyPair", keyName=out.get("keyName"))
            hostname = (out.get("tags") or {}).get("Name") or id_
            self.cloud.boot(id_, out["privateIp"], hostname=hostname, public_key=key[1]["publicKey"] if key else "",
                            user_data=out.get("userData"))
        elif type_ == VOLUME:
            self.cloud.volume_dir(id_).mkdir(parents=True, exist_ok=True)
        elif type_ == ATTACHMENT:
            self.cloud.attach(out["instanceId"], out["volumeId"], out["deviceName"])
        elif type_ == EIP_ASSOCIATION:
            eip = self.cloud.get(out["allocationId"]) or {}
            self.cloud.add_address(out["instanceId"], eip["publicIp"])
            out["publicIp"] = eip["publicIp"]

    def _act_delete(self, type_: str, id_: str, props: dict[str, Any]) -> None:
        if type_ == INSTANCE:
            self.cloud.terminate(id_)
            self.cloud.release(str(props.get("privateIp")))
        elif type_ == ATTACHMENT:
            self.cloud.detach(props["instanceId"], props["deviceName"],
                              stop_first=bool(props.get("stopInstanceBeforeDetaching")))
        elif type_ == EIP_ASSOCIATION:
            eip = self.cloud.get(props["allocationId"]) or {}
            if eip.get("publicIp"):
                self.cloud.add_address(props["instanceId"], eip["publicIp"], add=False)
        elif type_ == EIP:
            self.cloud.release(str(props.get("publicIp")))
        elif type_ == VOLUME:
            shutil.rmtree(self.cloud.volume_dir(id_), ignore_errors=True)


def _documentation_ip(id_: str, base: int) -> str:
    """Recorded-only addresses: from TEST-NET-2 (RFC 5737), never routed."""
    return f"198.51.100.{base + int(hashlib.sha256(id_.encode()).hexdigest(), 16) % 100}"


def folder() -> Path:
    path = os.environ.get("STACKKIT_LOCAL_CLOUD")
    if not path:
        raise SystemExit("pulumi-resource-aws (stackkit's local cloud): STACKKIT_LOCAL_CLOUD is not set; "
                         "this plugin is only for the local stack (stackkit local up)")
    return Path(path)
