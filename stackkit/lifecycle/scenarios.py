"""The documented config changes of the production stack, as data: (name, change) -> the scripts that must run,
exactly, as (command, op, phase): op create | update | replace | delete (the engine's, a replacement's create and
delete both `replace`), phase create | update | delete. docs/lifecycle.md's event table and
tests/engine/test_lifecycle_engine.py both take them to the real engine (stackkit.plan.against: the production stack
brought up records-only, each change previewed against it)."""

from __future__ import annotations

from stackkit.config.patch import Change

WEB = {("web1-configure", "replace", "create"), ("web2-configure", "replace", "create")}
NEW = ("setup", "configure", "shutdown", "users")     # what every new instance runs (its deploys besides)
ALL = ["app1", "app2", "app3", "app4", "app5", "db1", "web1", "web2"]
APPS = ["app1", "app2", "app3", "app4", "app5"]
ALL_CONFIGURE = {(f"{i}-configure", "replace", "create") for i in ALL}
PLONE_CONFIGURE = {(f"{i}-configure", "replace", "create") for i in APPS}
APP_CONFIGURE = PLONE_CONFIGURE | WEB           # the instances whose layers read the apps in configure

# (scenario, change, exact set of (command, op, phase) whose script runs)
SCENARIOS: list[tuple[str, Change, set[tuple[str, str, str]]]] = [
    ("add a plone instance", {"instances.app6": {"layers": ["plone"], "type": "t3.large", "az": 1}},
     {(f"app6-{c}", "create", "create") for c in (*NEW, "deploy-site")} | WEB),
    ("remove a plone instance", {"-instances.app5": None},
     {("app5-shutdown", "delete", "delete")} | WEB),
    ("replace a plone instance (new AZ)", {"instances.app1.az": 1},
     {(f"app1-{c}", "replace", "create") for c in (*NEW, "deploy-site")} | {("app1-shutdown", "replace", "delete")}
     | WEB),
    ("add a frontend instance", {"instances.web3": {"layers": ["frontend"], "az": 0}},
     {(f"web3-{c}", "create", "create") for c in NEW}),
    # it sorts before web1, the bastion: the bastion stays (the last deployment's), no private connection changes
    ("add a frontend instance whose name sorts first", {"instances.web0": {"layers": ["frontend"], "az": 1}},
     {(f"web0-{c}", "create", "create") for c in NEW}),
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
    # configure re-runs only where a layer reads the apps (layer.yaml configure_reads): the frontends (domains, SSL,
    # PLONE_SITE_ID of the apps behind them) and the plone instances (what is deployed there); never db1
    ("remove the app", {"-apps.site": None},
     {(f"{i}-deploy-site", "delete", "delete") for i in APPS} | APP_CONFIGURE),
    ("add an app to the plone layer",
     {"apps.blog": {"source": {"type": "git", "url": "https://example.org/blog.git", "revision": "v1"},
                    "layers": ["plone"], "domains": ["blog.example.org"]}},
     {(f"{i}-deploy-blog", "create", "create") for i in APPS} | APP_CONFIGURE),
]

# --- app changes: configure only where a layer reads what changed (benchmarks/fanout.py compares them with OpsWorks,
# where every instance ran configure) ----------------------------------------------------------------------------------
APP_SCENARIOS: list[tuple[str, Change, set[tuple[str, str, str]]]] = [
    ("add an app", SCENARIOS[-1][1], SCENARIOS[-1][2]),
    ("change an app's environment", {"apps.site.environment.FEATURE_FLAG": "on"},
     {(f"{i}-deploy-site", "update", "update") for i in APPS}),
    # the frontends rewrite to it, the plone instances create that site
    ("change the Plone site id", {"apps.site.environment.PLONE_SITE_ID": "Site"},
     {(f"{i}-deploy-site", "update", "update") for i in APPS} | APP_CONFIGURE),
    ("change an app's domains", {"apps.site.domains": ["www.example.org", "example.org", "example.com"]},
     {(f"{i}-deploy-site", "update", "update") for i in APPS} | WEB),
    ("change an app's secret environment", {"apps.site.secret_environment.ADMIN_PASSWORD": "another-secret-1"},
     # the trigger redacts secrets: configure re-runs as an update (its input changed), where the admin user is made
     {(f"{i}-deploy-site", "update", "update") for i in APPS} | {(f"{i}-configure", "update", "update") for i in APPS}),
]

# --- stackkit:users (the users step) -----------------------------------------------------------------------------------
# Production has no users: each starts from production plus `before` (name, before, change, exact set).
ALICE = {"ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGy+YedXliXkVIDhUAA6XSCgkgEvBEp0rW1kzJ+P0Yzq alice@laptop",
         "sudo": True, "layers": ["frontend"]}
BOB = {"ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGGA9/duvjMg6ZyYY34MOo/W1j2StgD/ndiHIOutl7dL bob@desk"}
WEB_USERS = {"web1", "web2"}


def _users(names: set[str] | list[str], op: str, phase: str) -> set[tuple[str, str, str]]:
    return {(f"{i}-users", op, phase) for i in names}


# Every instance has a users step (the deploy user's keys, stackkit.cluster.access): a users change updates it where
# the instance's users change, and nowhere else.
USERS_SCENARIOS: list[tuple[str, Change, Change, set[tuple[str, str, str]]]] = [
    ("add a user to the frontend layer", {}, {"users.alice": ALICE}, _users(WEB_USERS, "update", "update")),
    ("add a user on every instance", {}, {"users.bob": BOB}, _users(ALL, "update", "update")),
    ("add a second user where one is", {"users.alice": ALICE}, {"users.carol": {**BOB, "layers": ["frontend"]}},
     _users(WEB_USERS, "update", "update")),
    ("give a user sudo", {"users.bob": BOB}, {"users.bob.sudo": True}, _users(ALL, "update", "update")),
    ("remove one of two users", {"users.alice": ALICE, "users.bob": BOB}, {"-users.alice": None},
     _users(WEB_USERS, "update", "update")),
    ("remove the last user", {"users.alice": ALICE}, {"-users.alice": None}, _users(WEB_USERS, "update", "update")),
    ("move a user to another layer", {"users.alice": ALICE}, {"users.alice.layers": ["plone"]},
     _users([*WEB_USERS, *APPS], "update", "update")),
    ("a layer added to a user's instances keeps them", {"users.alice": ALICE},
     {"users.alice.layers": ["frontend", "maintenance"]}, _users(["db1"], "update", "update")),
    ("add an instance where users are", {"users.bob": BOB},
     {"instances.app6": {"layers": ["plone"], "type": "t3.large", "az": 1}},
     {(f"app6-{c}", "create", "create") for c in (*NEW, "deploy-site")} | WEB),
    ("new revision where users are", {"users.bob": BOB}, {"apps.site.source.revision": "v1.1.0"},
     {(f"{i}-deploy-site", "update", "update") for i in APPS}),
    ("authorize another deploy key", {}, {"stack.ssh_authorized_keys": [BOB["ssh_public_key"]]},
     _users(ALL, "update", "update")),
]
