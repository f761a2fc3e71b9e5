"""A folder of saved `aws opsworks describe-*` output (one JSON file per command, named after it) as a Snapshot.

    STACK=<stack id>
    for c in describe-stacks describe-layers describe-instances describe-apps describe-elastic-ips describe-volumes \
             describe-rds-db-instances describe-elastic-load-balancers describe-permissions; do
      aws opsworks $c --stack-id $STACK --region us-east-1 > $c.json; done    # describe-stacks: --stack-ids $STACK
    ...    (docs/importing.md has the whole recipe)

`CALLS` is the one table of what is read: the Snapshot field, the file (= the CLI command), the API operation and the
key of the list in its answer. stackkit.importer.live makes the same calls through boto3.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stackkit.errors import OpsWorksImportError
from stackkit.importer.snapshot import Record, Snapshot

# (Snapshot field, command = file name, boto3 operation, key of the records in the answer)
CALLS: tuple[tuple[str, str, str, str], ...] = (
    ("stack", "describe-stacks", "describe_stacks", "Stacks"),
    ("layers", "describe-layers", "describe_layers", "Layers"),
    ("instances", "describe-instances", "describe_instances", "Instances"),
    ("apps", "describe-apps", "describe_apps", "Apps"),
    ("elastic_ips", "describe-elastic-ips", "describe_elastic_ips", "ElasticIps"),
    ("volumes", "describe-volumes", "describe_volumes", "Volumes"),
    ("rds_db_instances", "describe-rds-db-instances", "describe_rds_db_instances", "RdsDbInstances"),
    ("time_based", "describe-time-based-auto-scaling", "describe_time_based_auto_scaling",
     "TimeBasedAutoScalingConfigurations"),
    ("load_based", "describe-load-based-auto-scaling", "describe_load_based_auto_scaling",
     "LoadBasedAutoScalingConfigurations"),
    ("user_profiles", "describe-user-profiles", "describe_user_profiles", "UserProfiles"),
    ("permissions", "describe-permissions", "describe_permissions", "Permissions"),
    ("elastic_load_balancers", "describe-elastic-load-balancers", "describe_elastic_load_balancers",
     "ElasticLoadBalancers"),
)
# optional: EC2's own view of the addresses, for the allocation ids adoption needs (OpsWorks gives only the IP)
ADDRESSES = ("addresses", "ec2-describe-addresses", "describe_addresses", "Addresses")


def _read(folder: Path, command: str, key: str, required: bool) -> list[Record] | None:
    path = folder / f"{command}.json"
    if not path.exists():
        if not required:
            return None
        raise OpsWorksImportError([f"{folder}: {command}.json is missing; save it with "
                                   f"`aws opsworks {command} ... > {command}.json` (docs/importing.md lists each)"])
    try:
        doc: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise OpsWorksImportError([f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"]) \
            from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OpsWorksImportError([f"{path}: cannot be read as UTF-8 text ({exc})"]) from None
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise OpsWorksImportError([f"{path}: expected the output of `aws opsworks {command}`: a JSON object with a "
                                   f"list under {key!r}"])
    for i, rec in enumerate(doc[key]):
        if not isinstance(rec, dict):
            raise OpsWorksImportError([f"{path}: {key}[{i}]: expected an object, not {type(rec).__name__}"])
    return list(doc[key])


def from_records(records: dict[str, list[Record]], source: str, adoptable: bool = True) -> Snapshot:
    stacks = records["stack"]
    if len(stacks) != 1:
        raise OpsWorksImportError([f"{source}: describe-stacks: expected one stack, found {len(stacks)}; "
                                   "save it with --stack-ids <the stack's id>"])
    stack = stacks[0]
    sid = stack.get("StackId")
    for fld, command, _, key in CALLS[1:]:
        for i, rec in enumerate(records.get(fld) or []):
            if "StackId" in rec and rec["StackId"] != sid:
                raise OpsWorksImportError([f"{source}: {command}: {key}[{i}] belongs to stack {rec['StackId']}, not "
                                           f"{sid}: save every file with --stack-id {sid}"])
    snap = Snapshot(source=source, region=str(stack.get("Region") or ""), stack=stack, adoptable=adoptable,
                    addresses=records.get("addresses") or [])
    for fld, *_ in CALLS[1:]:
        setattr(snap, fld, records.get(fld) or [])
    return snap


def from_folder(folder: Path) -> Snapshot:
    if not folder.is_dir():
        raise OpsWorksImportError([f"{folder}: not a folder of saved `aws opsworks describe-*` output"])
    records: dict[str, list[Record]] = {}
    for fld, command, _, key in CALLS:
        records[fld] = _read(folder, command, key, required=True) or []
    fld, command, _, key = ADDRESSES
    records[fld] = _read(folder, command, key, required=False) or []
    return from_records(records, str(folder))
