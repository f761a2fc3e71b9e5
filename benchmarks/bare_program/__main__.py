"""A bare Pulumi program for benchmarks/engine.py: registers the resources listed in $BARE_RESOURCES (type, name,
custom, inputs, key, parent, dependsOn) with no stackkit logic, as $BARE_MODE says:
- `plain`: flat, by plain CustomResource / ComponentResource calls (what the resources alone cost);
- `sdk`: by the SDK classes (pulumi_aws.ec2.Instance, pulumi_command.remote.Command, ...), each with the parent and
  dependencies the stackkit program gave it: the program a user would write by hand for the same stack."""

import json
import os
import sys
from pathlib import Path

import pulumi

sdk = os.environ.get("BARE_MODE", "plain") == "sdk"
if sdk:
    sys.path.insert(0, os.environ["BARE_ROOT"])
    from benchmarks.sdk import typed_class

made: dict = {}
classes: dict = {}
for r in json.loads(Path(os.environ["BARE_RESOURCES"]).read_text()):
    opts = None
    if sdk:          # registration order: a parent and (nearly always) a dependency come first
        opts = pulumi.ResourceOptions(parent=made.get(r["parent"]),
                                      depends_on=[made[u] for u in r["dependsOn"] if u in made])
        if r["custom"] and r["type"] not in classes:
            classes[r["type"]] = typed_class(r["type"])
    if r["custom"] and classes.get(r["type"]):
        cls, names = classes[r["type"]]
        made[r["key"]] = cls(r["name"], opts=opts, **{names.get(k, k): v for k, v in r["inputs"].items()})
    elif r["custom"]:
        made[r["key"]] = pulumi.CustomResource(r["type"], r["name"], dict(r["inputs"]), opts=opts)
    else:
        made[r["key"]] = pulumi.ComponentResource(r["type"], r["name"], None, opts=opts)
