"""A loopback stand-in for the OpsWorks API (JSON 1.1, X-Amz-Target OpsWorks_20130218.<Operation>) and EC2's
DescribeAddresses, answering from a folder of saved describe-* output: the live importer's calls, served locally.
It checks each call's parameters as the API did (the ids asked for must be the stack's)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from stackkit.importer.describe import CALLS

OPERATIONS = {operation.replace("_", "").lower(): (command, key) for _, command, operation, key in CALLS}


def _filter(key: str, records: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    for param, field in (("StackIds", "StackId"), ("InstanceIds", "InstanceId"), ("LayerIds", "LayerId"),
                         ("IamUserArns", "IamUserArn")):
        if param in body:
            return [r for r in records if r.get(field) in body[param]]
    if "StackId" in body:
        return [r for r in records if r.get("StackId", body["StackId"]) == body["StackId"]]
    raise AssertionError(f"{key}: called without a stack, instance, layer or user")


@contextmanager
def serve(folder: Path, calls: list[str]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amz-Target", "")
            if target.startswith("OpsWorks_20130218."):
                op = target.split(".", 1)[1]
                command, key = OPERATIONS[op.lower()]
                calls.append(op)
                if not (folder / f"{command}.json").exists():
                    self._send(400, "application/x-amz-json-1.1", json.dumps(
                        {"__type": "ResourceNotFoundException", "message": "Unable to find the stack"}))
                    return
                records = json.loads((folder / f"{command}.json").read_text())[key]
                self._send(200, "application/x-amz-json-1.1",
                           json.dumps({key: _filter(key, records, json.loads(raw or b"{}"))}))
                return
            form = parse_qs(raw.decode())
            assert form.get("Action") == ["DescribeAddresses"], form
            calls.append("DescribeAddresses")
            wanted = {v for k, vs in form.items() if k.startswith("PublicIp.") for v in vs}
            path = folder / "ec2-describe-addresses.json"
            found = json.loads(path.read_text())["Addresses"] if path.exists() else []
            items = "".join(f"<item><publicIp>{escape(a['PublicIp'])}</publicIp><allocationId>"
                            f"{escape(a['AllocationId'])}</allocationId><domain>vpc</domain></item>"
                            for a in found if a["PublicIp"] in wanted)
            self._send(200, "text/xml", '<DescribeAddressesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
                       f"<requestId>1</requestId><addressesSet>{items}</addressesSet></DescribeAddressesResponse>")

        def _send(self, status: int, kind: str, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
