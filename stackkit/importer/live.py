"""The live OpsWorks API (boto3, your AWS credentials) as a Snapshot: the same calls as the saved describe-* files
(stackkit.importer.describe.CALLS), so both inputs give the same stack file.

botocore dropped OpsWorks' service model after the service's end of life; stackkit carries it (botocore_data/, from
botocore 1.35.99, Apache-2.0: botocore_data/README.md) and puts it on the loader's search path. `endpoint_url` points a
client elsewhere (the tests' loopback server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stackkit.errors import OpsWorksImportError
from stackkit.importer.describe import ADDRESSES, CALLS, from_records
from stackkit.importer.snapshot import Record, Snapshot

MODELS = Path(__file__).parent / "botocore_data"
BOTO3_PIN = "boto3==1.44.8"        # as requirements-dev.txt pins it


def clients(region: str, endpoint_url: str | None = None) -> tuple[Any, Any]:
    """(opsworks, ec2) clients; the OpsWorks model from MODELS."""
    try:
        import boto3
        import botocore.session
    except ImportError:
        raise OpsWorksImportError([f"--stack-id reads the live API with boto3, which is not installed: pip install "
                                   f"{BOTO3_PIN} (or use --describe with saved `aws opsworks describe-*` output)"]) \
            from None
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    if str(MODELS) not in loader.search_paths:
        loader.search_paths.insert(0, str(MODELS))
    b3 = boto3.Session(botocore_session=session, region_name=region)
    return (b3.client("opsworks", region_name=region, endpoint_url=endpoint_url),
            b3.client("ec2", region_name=region, endpoint_url=endpoint_url))


def _arguments(field: str, stack_id: str, records: dict[str, list[Record]]) -> dict[str, Any] | None:
    """The call's parameters (None: nothing to ask, e.g. no instance for the time-based call)."""
    if field == "stack":
        return {"StackIds": [stack_id]}
    if field == "time_based":
        ids = [i["InstanceId"] for i in records["instances"] if i.get("AutoScalingType") == "timer"]
        return {"InstanceIds": ids} if ids else None
    if field == "load_based":
        ids = [la["LayerId"] for la in records["layers"]]
        return {"LayerIds": ids} if ids else None
    if field == "user_profiles":
        arns = [p["IamUserArn"] for p in records["permissions"]]
        return {"IamUserArns": arns} if arns else None
    return {"StackId": stack_id}


def from_api(stack_id: str, region: str, endpoint_url: str | None = None) -> Snapshot:
    from botocore.exceptions import BotoCoreError, ClientError

    opsworks, ec2 = clients(region, endpoint_url)
    records: dict[str, list[Record]] = {}
    # permissions before user profiles: the profiles asked for are the stack's users
    order = sorted(CALLS, key=lambda c: c[0] == "user_profiles")
    try:
        for field, _command, operation, key in order:
            args = _arguments(field, stack_id, records)
            records[field] = [] if args is None else list(getattr(opsworks, operation)(**args).get(key, []))
        ips = [e["Ip"] for e in records["elastic_ips"] if e.get("Ip")]
        records[ADDRESSES[0]] = list(ec2.describe_addresses(PublicIps=ips).get("Addresses", [])) if ips else []
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise OpsWorksImportError([f"opsworks:{stack_id} ({region}): {exc.operation_name}: {err.get('Code')}: "
                                   f"{err.get('Message')}"]) from None
    except BotoCoreError as exc:
        raise OpsWorksImportError([f"opsworks:{stack_id} ({region}): {exc}"]) from None
    return from_records(records, f"opsworks:{stack_id}")
