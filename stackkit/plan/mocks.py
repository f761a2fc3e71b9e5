"""Pulumi's mock runtime, set up for stackkit: deterministic fake ids and addresses, and a monitor that records every
RegisterResource request (inputs in wire format, and the options mocks never see: protect, dependsOn, deletedWith...).

Addresses derive from the resource name only, so adding an instance never changes another one's address.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import mocks as pm

from stackkit.config.aws_rules import REGION_AZS

SECRET_SIG = "4dabf18193072939515e22adb298388d"       # Pulumi's wire key of special values (secret, asset, archive)
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"     # ... and its value for a secret


def is_secret(value: object) -> bool:
    """A wire-format secret (an asset or archive carries the same key with another signature)."""
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _h(*parts: str) -> int:
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:12], 16)


def fake_ip(network: str, *parts: str) -> str:
    net = ipaddress.ip_network(network)
    return str(net.network_address + 10 + _h(*parts) % (net.num_addresses - 20))


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]            # wire format, secrets kept (marked) — internal only
    options: dict[str, Any]
    property_dependencies: dict[str, list[str]]
    id: str = ""
    state: dict[str, Any] = field(default_factory=dict)


class StackkitMocks(pm.Mocks):
    def __init__(self, region: str, addresses: dict[str, tuple[str, str]] | None = None,
                 previous_outputs: dict[str, Any] | None = None) -> None:
        self.region = region
        self.addresses = addresses or {}    # instance name -> (private ip, public ip): `stackkit local` sets these
        self.previous_outputs = previous_outputs or {}   # the stack's outputs before this run (the engine's checkpoint)
        self.subnet_azs: dict[str, str] = {}   # subnet id -> its zone: an instance is in its subnet's zone

    def call(self, args: pm.MockCallArgs) -> tuple[dict, list | None]:
        tok = args.token
        if tok == "aws:index/getAvailabilityZones:getAvailabilityZones":
            count = REGION_AZS.get(self.region, 3)     # as many AZs as the region has (stackkit/config/aws_rules.py)
            names = [f"{self.region}{c}" for c in "abcdef"[:count]]
            return {"names": names, "zoneIds": [f"{self.region[:3]}{self.region[-1]}-az{i + 1}" for i in range(count)],
                    "id": self.region, "state": "available"}, []
        if tok == "aws:ec2/getAmi:getAmi":
            pattern = args.args["filters"][0]["values"][0]
            return {"id": f"ami-{_h(self.region, pattern):012x}"[:21], "architecture": args.args["filters"][1]["values"][0],
                    "name": pattern.replace("*", "20261101-1234")}, []
        if tok == "pulumi:pulumi:readStackOutputs":     # the program reads its own stack's previous outputs
            return {"name": args.args["name"], "outputs": self.previous_outputs, "secretOutputNames": []}, []
        if tok == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/plan", "id": "123456789012",
                    "userId": "PLAN"}, []
        if tok == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        return {}, []

    def new_resource(self, args: pm.MockResourceArgs) -> tuple[str, dict]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        short = typ.split(":")[-1].lower()
        rid = args.resource_id or f"{short[:8]}-{_h(typ, name):012x}"
        state: dict[str, Any] = {}
        if typ == "aws:ec2/subnet:Subnet" and inputs.get("availabilityZone"):
            self.subnet_azs[rid] = inputs["availabilityZone"]
        if typ == "aws:ec2/instance:Instance":
            private, public = self.addresses.get(name, (fake_ip("10.0.0.0/8", "private", name),
                                                        fake_ip("100.64.0.0/10", "public", name)))
            if inputs.get("associatePublicIpAddress") is False:
                public = ""         # EC2: no public IP without the association (a private-subnet instance)
            rid = f"i-{_h(typ, name):017x}"[:19]
            # EC2's DNS names (VPC with DNS hostnames): us-east-1 has its own domains, every other region the same form
            internal, compute = (("ec2.internal", "compute-1") if self.region == "us-east-1"
                                 else (f"{self.region}.compute.internal", f"{self.region}.compute"))
            state = {"privateIp": private, "publicIp": public, "arn": f"arn:aws:ec2:{self.region}::instance/{rid}",
                     "availabilityZone": self.subnet_azs.get(inputs.get("subnetId", ""), inputs.get("availabilityZone")),
                     "privateDns": f"ip-{private.replace('.', '-')}.{internal}",
                     "publicDns": f"ec2-{public.replace('.', '-')}.{compute}.amazonaws.com" if public else ""}
        elif typ == "aws:ec2/eip:Eip":
            owner = name.removesuffix("-eip")
            public = self.addresses.get(owner, (None, fake_ip("100.64.0.0/10", "eip", name)))[1]
            state = {"publicIp": public, "allocationId": f"eipalloc-{_h(name):012x}"}
        elif typ == "aws:ec2/keyPair:KeyPair":
            state = {"keyName": name}
        elif typ in ("aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"):
            state = {"name": name, "arn": f"arn:aws:iam::123456789012:role/{name}"}
        elif typ == "aws:rds/instance:Instance":
            state = {"address": f"{name}.c{_h(name) % 10**10:010d}.{self.region}.rds.amazonaws.com",
                     "port": inputs.get("port", 5432), "endpoint": f"{name}.rds:{inputs.get('port', 5432)}"}
        elif typ == "aws:rds/subnetGroup:SubnetGroup":
            state = {"name": name}
        elif typ.startswith("aws:lb/"):
            state = {"arn": f"arn:aws:elasticloadbalancing:{self.region}:123456789012:{short}/{name}/{_h(name):x}",
                     "dnsName": f"{name}-{_h(name) % 10**9}.{self.region}.elb.amazonaws.com"}
        elif typ == "aws:lambda/function:Function":
            state = {"arn": f"arn:aws:lambda:{self.region}:123456789012:function:{inputs.get('name', name)}"}
        elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            state = {"arn": f"arn:aws:cloudwatch:{self.region}:123456789012:alarm:{inputs.get('name', name)}"}
        elif typ == "aws:lambda/invocation:Invocation":
            state = {"result": "{}"}
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            state = {"arn": f"arn:aws:logs:{self.region}:123456789012:log-group:{inputs.get('name', name)}"}
        elif typ == "pulumi:index:Stash":
            state = {"output": inputs.get("input")}
        elif typ == "command:remote:Command":
            state = {"stdout": "", "stderr": ""}
        return rid, {**inputs, **state}


class RecordingMonitor(pm.MockMonitor):
    """Keeps every RegisterResource request, in registration order, and the stack's outputs (pulumi.export)."""

    def __init__(self, mocks: pm.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.stack_urn = ""
        self.stack_outputs: dict[str, Any] = {}
        # the SDK's mock monitor gives each executor thread an event loop of its own and never closes it (each holds
        # a socket pair): kept here so that the run closes them (stackkit.plan.runtime.run_with_mocks)
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _note_loop(self) -> None:
        with contextlib.suppress(RuntimeError):      # a call that made none
            self.thread_loops.add(asyncio.get_event_loop_policy().get_event_loop())

    def Invoke(self, request: Any) -> Any:
        try:
            return super().Invoke(request)
        finally:
            self._note_loop()

    def ReadResource(self, request: Any) -> Any:
        try:
            return super().ReadResource(request)
        finally:
            self._note_loop()

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.stack_urn:
            self.stack_outputs = json_format.MessageToDict(request.outputs, preserving_proto_field_name=True)
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request: Any) -> Any:
        try:
            response = super().RegisterResource(request)
        finally:
            self._note_loop()
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
            return response
        inputs = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        options = {
            "protect": bool(request.protect),
            "dependsOn": sorted(request.dependencies),
            "deletedWith": request.deletedWith or None,
            "deleteBeforeReplace": bool(request.deleteBeforeReplace),
            "ignoreChanges": sorted(request.ignoreChanges),
            "replaceOnChanges": sorted(request.replaceOnChanges),
            "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
            "retainOnDelete": bool(request.retainOnDelete),
            "importId": request.importId or None,
        }
        prop_deps = {k: sorted(v.urns) for k, v in request.propertyDependencies.items()}
        reg = self.resources.get(response.urn)
        self.registrations.append(Registration(
            urn=response.urn, type=request.type, name=request.name, parent=request.parent, custom=bool(request.custom),
            inputs=inputs, options=options, property_dependencies=prop_deps,
            id=reg.id if reg else "", state=dict(reg.state) if reg else {}))
        return response
