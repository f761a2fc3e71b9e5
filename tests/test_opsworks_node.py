"""node.json as a porting user meets it: OpsWorks-style ERB templates (tests/opsworks/) rendered by Ruby's ERB against
the node.json of real bundles of the production and relstorage plans, and every documented key checked against the
plan's own outputs and the config (KEYS: path -> where its value comes from)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stackkit.config.instance_types import architecture
from stackkit.config.layerspec import load_layer_specs
from stackkit.lifecycle import bundle
from stackkit.plan.evaluate import Plan, Resource
from tests.conftest import ROOT, bundles

HERE = Path(__file__).with_name("opsworks")
NODE = re.compile(r"sk_put /etc/stackkit/node.json 0600 <<'(SK_EOF_\w+)'\n(.*?)\n\1\n", re.S)
EC2 = "aws:ec2/instance:Instance"

pytestmark = pytest.mark.skipif(shutil.which("ruby") is None,
                                reason="needs Ruby's ERB: apt-get install -y ruby (scripts/debian-packages.txt)")


def node_json(plan: Plan, command: str) -> dict[str, Any]:
    m = NODE.search(bundles(plan)[command])
    assert m, f"{command}: no node.json in its bundle"
    return json.loads(m.group(2))


def render(tmp_path: Path, template: str, node: dict[str, Any], app: str | None = None,
           env: dict[str, str] | None = None) -> str:
    path = tmp_path / "node.json"
    path.write_text(json.dumps(node))
    out = subprocess.run(["ruby", str(HERE / "render.rb"), str(HERE / template), str(path), *([app] if app else [])],
                         capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **(env or {})}, check=False)
    assert out.returncode == 0, f"{template}: {out.stderr}"
    return out.stdout


# (stack, command, app the command is for or None)
CASES = [("production", "web1-configure", None), ("production", "app1-configure", None),
         ("production", "app1-deploy-site", "site"), ("production", "app1-setup", None),
         ("relstorage", "app1-configure", None), ("relstorage", "app1-deploy-site", "site"),
         ("relstorage", "web1-configure", None)]


@dataclass
class Ctx:
    """Where the expected values come from: the plan's resources (mock outputs) and the stack file's config."""

    plan: Plan
    cfg: dict[str, Any]
    inst: str       # the instance the key is about (a member, for opsworks/layers/...)
    event: str
    me: str         # the instance whose node.json it is

    def ec2(self, name: str | None = None) -> Resource:
        return self.plan.named(name or self.inst, EC2)

    def st(self, key: str) -> Any:
        return self.ec2().state[key] or None

    @property
    def rds(self) -> Resource | None:
        return next(iter(self.plan.of_type("aws:rds/instance:Instance")), None)

    @property
    def site(self) -> dict[str, Any]:
        return self.cfg["stackkit:apps"]["site"]

    @property
    def plone(self) -> list[str]:
        return sorted(n for n, i in self.cfg["stackkit:instances"].items() if "plone" in i["layers"])

    def reads(self, part: str) -> bool:
        """Does this node.json show the app's `part`? Every event but configure does; a configure only what its layers
        read (layer.yaml configure_reads, read here from the layer files; not declared: everything)."""
        if self.event != "configure":
            return True
        specs, _ = load_layer_specs(ROOT / "layers")
        return any(specs[la].configure_reads is None or part in specs[la].configure_reads.parts  # type: ignore[union-attr]
                   for la in self.cfg["stackkit:instances"][self.me]["layers"])

    def eip(self) -> str | None:
        return next((r.state["publicIp"] for r in self.plan.of_type("aws:ec2/eip:Eip") if r.name == f"{self.inst}-eip"),
                    None)

    def zone(self) -> str:
        subnet = self.ec2().inputs["subnetId"]
        return next(s.inputs["availabilityZone"] for s in self.plan.of_type("aws:ec2/subnet:Subnet") if s.id == subnet)


def _db(c: Ctx, value: Any) -> Any:
    return value if c.rds is not None and c.reads("data_source") else None


def _rds_list(c: Ctx) -> list[dict[str, Any]]:
    if c.event == "setup" or c.rds is None:
        return []
    uses = c.me.startswith("app")     # only the layers that use a database get its password
    return [{"name": "zodb", "address": c.rds.state["address"], "port": 5432, "engine": "postgres", "db_name": "zodb",
             "db_user": "plone", "db_password": c.rds.secret_inputs["password"] if uses else None,
             "region": c.cfg["aws:region"]}]


def _backends(c: Ctx) -> list[dict[str, Any]]:
    if not c.me.startswith("web"):
        return []
    return [{"name": m, "ip": c.ec2(m).state["privateIp"], "backends": node_json(c.plan, f"{m}-configure")[
        "opsworks"]["instance"]["backends"]} for m in c.plone]


# every key docs/porting.md lists, with the source of its value ({l}: every layer, {i}: every instance it lists)
KEYS: dict[str, Callable[[Ctx], Any]] = {
    "opsworks/activity": lambda c: c.event,
    "opsworks/stack/id": lambda c: c.cfg["stackkit:stack"]["name"],
    "opsworks/stack/name": lambda c: c.cfg["stackkit:stack"]["name"],
    "opsworks/stack/region": lambda c: c.cfg["aws:region"],
    "opsworks/stack/vpc_id": lambda c: c.plan.of_type("aws:ec2/vpc:Vpc")[0].id,
    "opsworks/stack/rds_instances": _rds_list,
    "opsworks/stack/elb-load-balancers": lambda c: [],
    "opsworks/instance/id": lambda c: c.ec2().id,
    "opsworks/instance/aws_instance_id": lambda c: c.ec2().id,
    "opsworks/instance/hostname": lambda c: c.inst,
    "opsworks/instance/layers": lambda c: c.cfg["stackkit:instances"][c.inst]["layers"],
    "opsworks/instance/status": lambda c: "online",
    "opsworks/instance/private_ip": lambda c: c.st("privateIp"),
    "opsworks/instance/public_ip": lambda c: c.st("publicIp"),
    "opsworks/instance/elastic_ip": lambda c: c.eip(),
    "opsworks/instance/ip": lambda c: c.eip() or c.st("publicIp") or c.st("privateIp"),
    "opsworks/instance/private_dns_name": lambda c: c.st("privateDns"),
    "opsworks/instance/public_dns_name": lambda c: c.st("publicDns"),
    "opsworks/instance/availability_zone": lambda c: c.zone(),
    "opsworks/instance/subnet_id": lambda c: c.ec2().inputs["subnetId"],
    "opsworks/instance/region": lambda c: c.cfg["aws:region"],
    "opsworks/instance/architecture": lambda c: architecture(c.ec2().inputs["instanceType"]),
    "opsworks/instance/infrastructure_class": lambda c: "ec2",
    "opsworks/instance/instance_type": lambda c: c.ec2().inputs["instanceType"] if c.event == "configure" else None,
    "opsworks/layers/{l}/instances/{i}/aws_instance_id": lambda c: c.ec2().id,
    "opsworks/layers/{l}/instances/{i}/private_ip": lambda c: c.st("privateIp"),
    "opsworks/layers/{l}/instances/{i}/private_dns_name": lambda c: c.st("privateDns"),
    "opsworks/layers/{l}/instances/{i}/availability_zone": lambda c: c.zone(),
    "opsworks/applications/0/application_type": lambda c: "other",
    "deploy/site/application": lambda c: "site",
    "deploy/site/application_type": lambda c: "other",
    "deploy/site/deploy_to": lambda c: "/srv/apps/site",
    "deploy/site/current_path": lambda c: "/srv/apps/site/current",
    "deploy/site/document_root": lambda c: "",
    "deploy/site/absolute_document_root": lambda c: "/srv/apps/site/current/",
    "deploy/site/mounted_at": lambda c: None,
    "deploy/site/domains": lambda c: c.site.get("domains", []) if c.reads("domains") else [],
    "deploy/site/keep_releases": lambda c: 5,
    "deploy/site/user": lambda c: "zope",
    "deploy/site/group": lambda c: "zope",
    "deploy/site/scm/scm_type": lambda c: c.site["source"].get("type", "git") if c.reads("source") else None,
    "deploy/site/scm/repository": lambda c: c.site["source"]["url"] if c.reads("source") else None,
    "deploy/site/scm/revision": lambda c: c.site["source"]["revision"] if c.event == "deploy" else None,
    "deploy/site/scm/ssh_key": lambda c: None,
    "deploy/site/memcached/host": lambda c: (c.ec2("cache1").state["privateIp"]
                                             if c.event == "configure" and c.me.startswith("app") and c.rds else None),
    "deploy/site/memcached/port": lambda c: 11211,
    "deploy/site/database/adapter": lambda c: _db(c, "postgresql"),
    "deploy/site/database/type": lambda c: _db(c, "postgresql"),
    "deploy/site/database/data_source_provider": lambda c: _db(c, "rds"),
    "deploy/site/database/host": lambda c: _db(c, c.rds and c.rds.state["address"]),
    "deploy/site/database/database": lambda c: _db(c, "zodb"),
    "deploy/site/database/reconnect": lambda c: True,
    "haproxy/other_backends": _backends,
    "haproxy/other_applications/site/domains": lambda c: c.site.get("domains", []) if c.reads("domains") else [],
    "haproxy/rails_backends": lambda c: [],
    "haproxy/php_backends": lambda c: [],
    "haproxy/php_applications": lambda c: {},
}


def _paths(node: dict[str, Any]) -> list[str]:
    """The key paths to read in this node.json: app keys where it has apps, layer keys for each instance listed."""
    out = []
    for key in KEYS:
        if key.startswith(("deploy/", "haproxy/other_applications", "opsworks/applications/")) and not node["deploy"]:
            continue     # setup and shutdown carry no app (OpsWorks' deploy attributes are deploy's)
        if "{l}" in key:
            for layer, data in node["opsworks"]["layers"].items():
                out.extend(key.format(l=layer, i=m) for m in data["instances"])
            continue
        out.append(key)
    return out


@pytest.mark.parametrize(("stack", "command", "app"), CASES)
def test_every_documented_key(plans: dict[str, Plan], stack_files: dict[str, Any], tmp_path: Path, stack: str,
                              command: str, app: str | None) -> None:
    """Ruby reads each key strictly (a missing one fails the render); its value is the plan's or the config's."""
    plan = plans[stack]
    me, event = command.split("-")[:2]
    node = node_json(plan, command)
    paths = _paths(node)
    (tmp_path / "keys").write_text("\n".join(paths) + "\n")
    out = render(tmp_path, "keys.erb", node, env={"SK_KEYS": str(tmp_path / "keys")})
    got = dict(line.split("\t", 1) for line in out.splitlines())
    assert list(got) == paths
    for path in paths:
        key = re.sub(r"^opsworks/layers/[^/]+/instances/([^/]+)/", "opsworks/layers/{l}/instances/{i}/", path)
        inst = path.split("/")[4] if key != path else me
        want = KEYS[key](Ctx(plan, stack_files[stack].config, inst, event, me))
        assert json.loads(got[path]) == want, f"{stack} {command}: {path}"


@pytest.mark.parametrize("stack", ["production", "relstorage"])
def test_haproxy_template_lists_the_app_servers(plans: dict[str, Plan], stack_files: dict[str, Any], tmp_path: Path,
                                               stack: str) -> None:
    """The frontend's configure (it watches plone): haproxy's `other_backends` are the plone instances, by address."""
    plan, cfg = plans[stack], stack_files[stack].config
    out = render(tmp_path, "haproxy.cfg.erb", node_json(plan, "web1-configure"))
    members = sorted(n for n, i in cfg["stackkit:instances"].items() if "plone" in i["layers"])
    assert members and "backend other_app_servers" in out
    for m in members:
        assert f"  server {m} {plan.named(m, EC2).state['privateIp']}:8080 weight " in out
    for domain in cfg["stackkit:apps"]["site"]["domains"]:
        assert f"hdr_end(host) -i {domain}\n" in out
    assert "rails_app_servers" not in out and "php_app_servers" not in out


@pytest.mark.parametrize("stack", ["production", "relstorage"])
def test_database_template_reads_the_data_source(plans: dict[str, Plan], tmp_path: Path, stack: str) -> None:
    plan = plans[stack]
    out = render(tmp_path, "database.yml.erb", node_json(plan, "app1-deploy-site"), app="site")
    rds = next(iter(plan.of_type("aws:rds/instance:Instance")), None)
    if rds is None:     # production: ZEO, no data source: OpsWorks' empty form renders
        assert "  adapter: \n" in out and "  reconnect: true\n" in out and "# rds " not in out
        return
    assert "  adapter: postgresql\n" in out
    assert f"  host: {rds.state['address']}\n  port: 5432\n  username: plone\n" in out
    assert f"  password: {json.dumps(rds.secret_inputs['password'])}\n" in out
    assert f"  # rds zodb: postgres at {rds.state['address']}:5432\n" in out and "mysql::client would" in out


def test_memcached_template_finds_the_cache(plans: dict[str, Plan], tmp_path: Path) -> None:
    """plone watches memcached: its configure knows the cache; its deploy (which must not re-run when the cache
    moves) gets OpsWorks' host nil."""
    plan = plans["relstorage"]
    out = render(tmp_path, "memcached.yml.erb", node_json(plan, "app1-configure"), app="site")
    assert f"    - {plan.named('cache1', EC2).state['privateIp']}:11211\n" in out
    out = render(tmp_path, "memcached.yml.erb", node_json(plan, "app1-deploy-site"), app="site")
    assert "servers: []" in out and "(port 11211)" in out


@pytest.mark.parametrize("stack", ["production", "relstorage"])
def test_vhost_template_reads_the_app(plans: dict[str, Plan], stack_files: dict[str, Any], tmp_path: Path,
                                      stack: str) -> None:
    site = stack_files[stack].config["stackkit:apps"]["site"]
    out = render(tmp_path, "vhost.conf.erb", node_json(plans[stack], "app1-deploy-site"), app="site")
    assert f"  server_name {' '.join(site['domains'])};\n" in out
    assert "  root /srv/apps/site/current/;\n" in out and "access_log /var/log/nginx/site.access.log" in out
    assert f"runs as zope:zope, keeps 5 releases of {site['source']['url']}" in out


def test_node_json_stays_secret(plans: dict[str, Plan]) -> None:
    """node.json is written 0600 (NODE matches only that), and a command whose node.json holds a secret value has a
    secret stdin."""
    seen = 0
    for stack in ("production", "relstorage"):
        for r in plans[stack].of_type("command:remote:Command"):
            m = NODE.search(bundle.rendered(r.secret_inputs["stdin"]))
            if m is None:
                assert r.name.endswith("-users"), r.name
                continue
            node = json.loads(m.group(2))
            secrets = [d["database"]["password"] for d in node["deploy"].values()]
            secrets += [d["ssl_certificate_key"] for d in node["deploy"].values()]
            secrets += [v for d in node["deploy"].values() for k, v in d["environment_variables"].items()
                        if k not in d["environment"]]
            secrets += [db["db_password"] for db in node["opsworks"]["stack"]["rds_instances"]]
            if any(s is not None for s in secrets):
                seen += 1
                assert r.inputs["stdin"] == "[secret]", r.name
    assert seen
