"""A CloudFormation template (JSON or YAML, short-form tags included) as a Snapshot.

The OpsWorks resource types' properties are the API's fields, so a resource's resolved properties are the record the
API would describe, with the logical id as its id. What only a template says (an ELB's listeners, an EBS volume's size)
fills the matching fields of the Snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stackkit.errors import ConfigError, OpsWorksImportError
from stackkit.importer.intrinsics import Resolver, TemplateProblem
from stackkit.importer.snapshot import Record, Snapshot
from stackkit.yamltext import StrictLoader, parse_yaml

SHORT_FORMS = {"Ref": "Ref", "Condition": "Condition", **{f: f"Fn::{f}" for f in (
    "GetAtt", "Join", "Sub", "FindInMap", "GetAZs", "Select", "If", "Split", "Base64", "Equals", "Not", "And", "Or",
    "ImportValue", "Cidr", "Transform", "Length", "ToJsonString")}}
OPSWORKS = ("AWS::OpsWorks::Stack", "AWS::OpsWorks::Layer", "AWS::OpsWorks::Instance", "AWS::OpsWorks::App",
            "AWS::OpsWorks::ElasticLoadBalancerAttachment", "AWS::OpsWorks::UserProfile", "AWS::OpsWorks::Volume")
DEFAULT_REGION = "us-east-1"


class TemplateLoader(StrictLoader):
    """The strict YAML reader (stackkit.yamltext) with CloudFormation's short forms: `!Ref x` is {"Ref": x}."""


def _short_form(tag: str, key: str) -> None:
    def construct(loader: TemplateLoader, node: Node) -> dict[str, Any]:
        if isinstance(node, ScalarNode):
            value: Any = loader.construct_scalar(node)
            if key == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            value = None
        return {key: value}
    TemplateLoader.add_constructor(f"!{tag}", construct)


for _tag, _key in SHORT_FORMS.items():
    _short_form(_tag, _key)
SHORT_TAGS = frozenset(f"!{t}" for t in SHORT_FORMS)


def read_template(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OpsWorksImportError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OpsWorksImportError([f"{path}: cannot be read as UTF-8 text ({exc})"]) from None
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OpsWorksImportError([f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"]) \
                from None
    else:
        try:
            doc = parse_yaml(text, path, TemplateLoader, SHORT_TAGS, what="a template")
        except ConfigError as exc:
            raise OpsWorksImportError(exc.problems) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise OpsWorksImportError([f"{path}: not a CloudFormation template (no Resources mapping)"])
    return doc


def from_template(path: Path, region: str | None = None, parameters: Mapping[str, str] | None = None,
                  stack_name: str = "opsworks") -> Snapshot:
    doc = read_template(path)
    try:
        return _snapshot(doc, str(path), region or DEFAULT_REGION, parameters or {}, stack_name)
    except TemplateProblem as exc:
        raise OpsWorksImportError([f"{path}: {exc}"]) from None


def _snapshot(doc: dict[str, Any], source: str, region: str, parameters: Mapping[str, str],
              stack_name: str) -> Snapshot:
    r = Resolver(doc, region, stack_name, parameters)
    kept: dict[str, tuple[str, Record]] = {}
    for lid, res in r.resources.items():
        place = f"Resources.{lid}"
        if not isinstance(res, Mapping) or not isinstance(res.get("Type"), str):
            raise TemplateProblem(place, "a resource is a mapping with a Type")
        if "Condition" in res and not r.condition(res["Condition"], f"{place}.Condition"):
            continue
        props = r.resolve(res.get("Properties") or {}, f"{place}.Properties")
        kept[lid] = (res["Type"], props)
    stacks = [lid for lid, (t, _) in kept.items() if t == "AWS::OpsWorks::Stack"]
    if len(stacks) != 1:
        raise TemplateProblem("Resources", f"expected one AWS::OpsWorks::Stack, found {len(stacks)}"
                              + (f" ({', '.join(stacks)}); import one template per stack" if stacks else ""))
    of = {t: [(lid, p) for lid, (tt, p) in kept.items() if tt == t] for t in OPSWORKS}
    stack_id = stacks[0]
    stack = {**kept[stack_id][1], "StackId": stack_id, "Region": region}
    snap = Snapshot(source=source, region=region, stack=stack, adoptable=False)
    for eip in stack.get("ElasticIps") or []:
        snap.elastic_ips.append({"Ip": eip.get("Ip"), "Name": eip.get("Name"), "Domain": "vpc", "Region": region})
    for db in stack.get("RdsDbInstances") or []:
        arn = str(db.get("RdsDbInstanceArn", ""))
        ident = arn.rsplit(":", 1)[-1]
        # the template's DB instance: by Fn::GetAtt (<logical id>.Arn...) or by its DBInstanceIdentifier
        res = kept.get(arn.split(".", 1)[0]) or next(
            (r for r in kept.values() if r[0] == "AWS::RDS::DBInstance" and r[1].get("DBInstanceIdentifier") == ident),
            None)
        rec = {"RdsDbInstanceArn": arn, "DbInstanceIdentifier": ident, "DbUser": db.get("DbUser"),
               "DbPassword": db.get("DbPassword"), "Region": region}
        if res and res[0] == "AWS::RDS::DBInstance":
            rec.update({"Engine": str(res[1].get("Engine", "")), "EngineVersion": res[1].get("EngineVersion"),
                        "DBInstanceClass": res[1].get("DBInstanceClass"),
                        "AllocatedStorage": res[1].get("AllocatedStorage"), "MultiAZ": res[1].get("MultiAZ")})
        snap.rds_db_instances.append(rec)
    for lid, p in of["AWS::OpsWorks::Layer"]:
        snap.layers.append({**p, "LayerId": lid})
        if p.get("LoadBasedAutoScaling"):
            snap.load_based.append({"LayerId": lid, **p["LoadBasedAutoScaling"]})
    for lid, p in of["AWS::OpsWorks::Instance"]:
        rec = {k: v for k, v in p.items() if k != "TimeBasedAutoScaling"}
        snap.instances.append({**rec, "InstanceId": lid, "Hostname": p.get("Hostname") or lid.lower()})
        if p.get("TimeBasedAutoScaling"):
            snap.time_based.append({"InstanceId": lid, "AutoScalingSchedule": p["TimeBasedAutoScaling"]})
        for ip in p.get("ElasticIps") or []:
            found = next((e for e in snap.elastic_ips if e["Ip"] == ip), None)
            if found is None:
                snap.elastic_ips.append({"Ip": ip, "Domain": "vpc", "Region": region, "InstanceId": lid})
            else:
                found["InstanceId"] = lid
        for vol in p.get("Volumes") or []:
            for vid, vp in of["AWS::OpsWorks::Volume"]:
                if vid == vol:
                    vp.setdefault("InstanceId", lid)
    for lid, p in of["AWS::OpsWorks::Volume"]:
        rec = {"VolumeId": lid, "Ec2VolumeId": p.get("Ec2VolumeId"), "Name": p.get("Name"),
               "MountPoint": p.get("MountPoint"), "InstanceId": p.get("InstanceId"), "Region": region}
        ec2 = kept.get(str(p.get("Ec2VolumeId", "")))
        if ec2 and ec2[0] == "AWS::EC2::Volume":
            rec.update({"Size": ec2[1].get("Size"), "VolumeType": ec2[1].get("VolumeType"),
                        "Iops": ec2[1].get("Iops"), "Encrypted": ec2[1].get("Encrypted"),
                        "AvailabilityZone": ec2[1].get("AvailabilityZone")})
        snap.volumes.append(rec)
    for lid, p in of["AWS::OpsWorks::App"]:
        snap.apps.append({**p, "AppId": lid})
    for _lid, p in of["AWS::OpsWorks::ElasticLoadBalancerAttachment"]:
        name = p.get("ElasticLoadBalancerName")
        rec = {"ElasticLoadBalancerName": name, "LayerId": p.get("LayerId"), "Region": region}
        elb = kept.get(str(name))
        if elb and elb[0] == "AWS::ElasticLoadBalancing::LoadBalancer":
            rec["Listeners"] = elb[1].get("Listeners") or []
            rec["HealthCheck"] = elb[1].get("HealthCheck") or {}
        snap.elastic_load_balancers.append(rec)
    for lid, p in of["AWS::OpsWorks::UserProfile"]:
        snap.user_profiles.append({**p, "IamUserArn": p.get("IamUserArn", lid)})
    others = sorted({t for t, _ in kept.values() if t not in OPSWORKS and not t.startswith("AWS::OpsWorks::")})
    if others:
        snap.notes.append(f"other resource types in the template, read only where an OpsWorks resource refers to "
                          f"them: {', '.join(others)}")
    return snap
