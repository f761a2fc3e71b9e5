"""The cluster state in OpsWorks' shape (node['opsworks'] and node['deploy']), so recipes and templates ported from
OpsWorks find what they expect. Pure: a stackkit view in, the OpsWorks node JSON out."""

from __future__ import annotations

from typing import Any


def _instance(rec: dict[str, Any], region: str) -> dict[str, Any]:
    return {
        "status": "online",
        "private_ip": rec["private_ip"],
        "ip": rec["elastic_ip"] or rec["public_ip"],
        "elastic_ip": rec["elastic_ip"],
        "aws_instance_id": rec["id"],
        "availability_zone": rec["az"],
        "region": region,
        "instance_type": rec.get("instance_type"),
        "backends": rec.get("backends"),
    }


def node(view: dict[str, Any]) -> dict[str, Any]:
    region = view["stack"]["region"]
    me = view["instance"]
    deploy = {}
    for name, app in view["apps"].items():
        db = view["databases"].get(app["data_source"] or "", None)
        deploy[name] = {
            "deploy_to": app["deploy_to"],
            "domains": app["domains"],
            "environment_variables": {**app["environment"], **app["secret_environment"]},
            "scm": {"scm_type": app["source"]["type"], "repository": app["source"]["url"],
                    "revision": app["source"]["revision"]},
            "database": ({"host": db["endpoint"], "port": db["port"], "database": db["name"],
                          "username": db["user"], "password": db["password"]} if db else {}),
            "ssl_support": app["ssl"] is not None,
            "ssl_certificate": (app["ssl"] or {}).get("certificate"),
            "ssl_certificate_key": (app["ssl"] or {}).get("key"),
            "ssl_certificate_ca": (app["ssl"] or {}).get("chain"),
        }
    return {
        "opsworks": {
            "activity": view["event"],
            "stack": {"name": view["stack"]["name"]},
            "layers": {
                name: {"name": name,
                       "instances": {r["hostname"]: _instance(r, region) for r in layer["instances"]}}
                for name, layer in view["layers"].items()
            },
            "instance": {**_instance(me, region), "hostname": me["hostname"], "layers": me["layers"]},
            "applications": [{"slug_name": n, "name": n, "application_type": "other"} for n in view["apps"]],
        },
        "deploy": deploy,
    }
