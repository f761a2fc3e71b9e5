"""The local stack's config handling (pure parts): which secure values a stack file has, how `pulumi config set
--path` names them, and which of them a change removed."""

from __future__ import annotations

from stackkit.config.patch import apply
from stackkit.engine.localstack import _exists, dotted, secure_paths


def test_secure_paths_of_the_shipped_production_stack() -> None:
    from ruamel.yaml import YAML

    from stackkit.engine.toolchain import ROOT

    config = YAML(typ="safe").load((ROOT / "Pulumi.production.yaml").read_text())["config"]
    names = sorted(dotted(k, p) for k, p in secure_paths(config))
    assert "stackkit:stack.ssh_private_key" in names
    assert "stackkit:apps.site.secret_environment.ADMIN_PASSWORD" in names


def test_dotted_paths_with_lists() -> None:
    assert dotted("stackkit:apps", ["site", "ssl", "key"]) == "stackkit:apps.site.ssl.key"
    assert dotted("stackkit:x", ["a", 0, "b"]) == "stackkit:x.a[0].b"


def test_a_removed_app_takes_its_secrets_with_it() -> None:
    config = {"stackkit:apps": {"site": {"secret_environment": {"A": {"secure": "x"}}, "layers": ["plone"]}}}
    changed = apply(config, {"-apps.site": None})
    assert not _exists(changed, "stackkit:apps", ["site", "secret_environment"])
    assert _exists(config, "stackkit:apps", ["site", "secret_environment"])
