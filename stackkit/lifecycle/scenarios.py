"""The documented config changes of the production stack, as data: (name, change) -> the scripts that must run,
exactly. docs/lifecycle.md's event table and tests/test_lifecycle.py both use them."""

from __future__ import annotations

import copy
from typing import Any

Change = dict[str, Any]


def apply(config: dict[str, Any], change: Change) -> dict[str, Any]:
    """Return config with `change` applied: {"instances.app6": {...}} sets, {"-instances.app5": None} deletes."""
    out = copy.deepcopy(config)
    for path, value in change.items():
        delete = path.startswith("-")
        top, *parts = path.lstrip("-").split(".")
        cur = out.setdefault(f"stackkit:{top}", {})
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        if delete:
            del cur[parts[-1]]
        else:
            cur[parts[-1]] = copy.deepcopy(value)   # never share a value between configs
    return out


WEB = {("web1-configure", "replace", "create"), ("web2-configure", "replace", "create")}
ALL = ["app1", "app2", "app3", "app4", "app5", "db1", "web1", "web2"]
APPS = ["app1", "app2", "app3", "app4", "app5"]
ALL_CONFIGURE = {(f"{i}-configure", "replace", "create") for i in ALL}

# (scenario, change, exact set of (command, op, phase) whose script runs)
SCENARIOS: list[tuple[str, Change, set[tuple[str, str, str]]]] = [
    ("add a plone instance", {"instances.app6": {"layers": ["plone"], "type": "t3.large", "az": 1}},
     {("app6-setup", "create", "create"), ("app6-deploy-site", "create", "create"),
      ("app6-configure", "create", "create"), ("app6-shutdown", "create", "create")} | WEB),
    ("remove a plone instance", {"-instances.app5": None},
     {("app5-shutdown", "delete", "delete")} | WEB),
    ("replace a plone instance (new AZ)", {"instances.app1.az": 1},
     {("app1-setup", "replace", "create"), ("app1-deploy-site", "replace", "create"),
      ("app1-configure", "replace", "create"), ("app1-shutdown", "replace", "create"),
      ("app1-shutdown", "replace", "delete")} | WEB),
    ("add a frontend instance", {"instances.web3": {"layers": ["frontend"], "az": 0}},
     {("web3-setup", "create", "create"), ("web3-configure", "create", "create"), ("web3-shutdown", "create", "create")}),
    ("new revision", {"apps.site.source.revision": "v1.1.0"},
     {(f"{i}-deploy-site", "update", "update") for i in APPS}),
    ("redeploy nonce on all instances", {"apps.site.redeploy": {"nonce": 1}},
     {(f"{i}-deploy-site", "update", "update") for i in APPS}),
    ("redeploy nonce on chosen instances", {"apps.site.redeploy": {"nonce": 1, "instances": ["app2"]}},
     {("app2-deploy-site", "update", "update")}),
    ("stack configure nonce", {"stack.configure_nonce": 1}, ALL_CONFIGURE),
    ("instance setup nonce", {"instances.app3.setup_nonce": 1}, {("app3-setup", "replace", "create")}),
    ("unrelated tag", {"stack.tags.team": "web"}, set()),
    ("instance type change (no replacement)", {"instances.app2.type": "t3.xlarge"},
     # more vCPUs -> more Zope clients on app2: its setup? no; its configure starts them; the frontends add them
     {("app2-configure", "replace", "create")} | WEB),
    ("remove the app", {"-apps.site": None},
     {(f"{i}-deploy-site", "delete", "delete") for i in APPS} | ALL_CONFIGURE),
    ("add an app to the plone layer",
     {"apps.blog": {"source": {"type": "git", "url": "https://example.org/blog.git", "revision": "v1"},
                    "layers": ["plone"], "domains": ["blog.example.org"]}},
     {(f"{i}-deploy-blog", "create", "create") for i in APPS} | ALL_CONFIGURE),
]
