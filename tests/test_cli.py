"""The command line: every sub-command is there (a broken module fails loudly instead of vanishing), and `secrets`
lists a stack file's secure values and the placeholders still to set."""

from __future__ import annotations

import pytest

from stackkit.cli import main
from stackkit.secrets import secure_values
from tests.conftest import ROOT

SUBCOMMANDS = ["schema", "plan", "clone", "graph", "docs", "secrets", "local"]


def test_every_subcommand_is_registered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in usage.split("{", 1)[1].split("}", 1)[0].split(","), name


@pytest.mark.parametrize(("file", "expected"), [
    ("Pulumi.production.yaml", [("stackkit:stack.ssh_private_key", True),
                                ("stackkit:apps.site.secret_environment.ADMIN_PASSWORD", True)]),
    ("examples/Pulumi.relstorage.yaml", [("stackkit:stack.ssh_private_key", True),
                                         ("stackkit:resources.databases.zodb.password", True)]),
])
def test_secure_values_of_the_shipped_stacks(file: str, expected: list) -> None:
    assert secure_values(ROOT / file) == expected


def test_a_set_secret_is_not_a_placeholder(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / "Pulumi.staging.yaml").read_text()
    f = tmp_path / "Pulumi.mine.yaml"
    f.write_text(text.replace("secure: v1:placeholder:set-with-pulumi-config-set-secret",
                              "secure: v1:AAAABBBBCCCC", 1))
    assert main(["secrets", "--config", str(f)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "set          stackkit:stack.ssh_private_key"
    assert out[1] == "placeholder  stackkit:apps.site.secret_environment.ADMIN_PASSWORD"
    assert out[-1] == ("pulumi config set --secret --path 'stackkit:apps.site.secret_environment.ADMIN_PASSWORD' "
                       "--stack 'mine' < value-file    # or without '< value-file': Pulumi prompts for it, hidden")


def test_secrets_prints_paste_safe_commands() -> None:
    """Every path single-quoted (a key with a quote, a $ or a space stays one word), the value never on the line."""
    from stackkit.secrets import command
    assert command("stackkit:apps.site.secret_environment.A'B $(id)", "my stack") == (
        "pulumi config set --secret --path 'stackkit:apps.site.secret_environment.A'\\''B $(id)' --stack 'my stack' "
        "< value-file    # or without '< value-file': Pulumi prompts for it, hidden")
    assert command("stackkit:stack.ssh_private_key", "s").endswith("--stack 's' < ~/.ssh/stackkit")


def test_plan_prints_numbers_as_written(plans: dict) -> None:
    """The wire format carries numbers as floats; the printed plan shows port=80, never 80.0."""
    import re

    from stackkit.plan.show import tree

    text = tree(plans["staging"])
    assert "fromPort=80 toPort=80" in text
    assert not re.search(r"=\d+\.0(\s|$)", text, re.M)


def test_local_up_serves_the_instances_of_the_web_layers(plans: dict) -> None:  # type: ignore[no-untyped-def]
    """`local up` prints the addresses of the instances carrying a layer with port 80 open to the internet, found from
    the layers' metadata and the stack's outputs (not by looking for the word 'frontend')."""
    from stackkit.config.stackfile import read_stack_file
    from stackkit.local.cli import web_urls
    from stackkit.local.web import web_layers

    declared = read_stack_file(ROOT / "Pulumi.production.yaml").config["stackkit:instances"]
    addresses = {n: {"address": f"10.1.0.{i + 10}"} for i, n in enumerate(sorted(declared))}
    web = {n for n in declared if n.startswith("web")}
    assert web and web != set(declared)
    assert web_layers() == {"frontend"}
    assert web_urls(declared, addresses, web_layers()) == sorted(f"http://{addresses[n]['address']}/" for n in web)
