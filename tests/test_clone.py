"""`stackkit clone`: comments and order kept, region changed, secrets not copied but listed; and nothing in the program
or the layers is region-specific: production planned in three regions differs only in region-derived values."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stackkit.clone import clone
from stackkit.config.stackfile import StackFile
from stackkit.errors import StackkitError
from stackkit.plan.evaluate import evaluate
from tests.conftest import ROOT

SOURCE = """\
# the production stack
config:
  aws:region: eu-west-1   # primary region
  stackkit:stack:
    name: shop
    ssh_private_key:
      secure: v1:AAAAcipher
    admin_cidrs: [203.0.113.0/24]
  stackkit:apps:
    site:
      # the app's secrets
      secret_environment:
        TOKEN:
          secure: v1:BBBBcipher
        LEVEL: "2"
  stackkit:dbPassword:
    secure: v1:CCCCcipher
encryptionsalt: v1:salt:v1:abc
"""

EXPECTED = """\
# the production stack
config:
  aws:region: ap-south-1  # primary region
  stackkit:stack:
    name: shop
    admin_cidrs: [203.0.113.0/24]
  stackkit:apps:
    site:
      # the app's secrets
      secret_environment:
        LEVEL: "2"
"""


def test_clone_keeps_comments_and_order_and_lists_the_secrets(tmp_path: Path) -> None:
    src, dst = tmp_path / "Pulumi.prod.yaml", tmp_path / "Pulumi.india.yaml"
    src.write_text(SOURCE)
    report = clone(src, dst, "ap-south-1")
    assert dst.read_text() == EXPECTED
    assert report.dropped == ["encryptionsalt"]
    assert report.commands("india") == [
        "pulumi config set --secret --path 'stackkit:stack.ssh_private_key' --stack 'india' < ~/.ssh/stackkit",
        "pulumi config set --secret --path 'stackkit:apps.site.secret_environment.TOKEN' --stack 'india' < value-file"
        "    # or without '< value-file': Pulumi prompts for it, hidden",
        "pulumi config set --secret 'stackkit:dbPassword' --stack 'india' < value-file"
        "    # or without '< value-file': Pulumi prompts for it, hidden",
    ]
    assert "pulumi stack init india --copy-config-from prod" in report.text("prod", "india")
    assert "cipher" not in dst.read_text()


def test_clone_refuses_to_overwrite_and_names_a_missing_source(tmp_path: Path) -> None:
    src, dst = tmp_path / "Pulumi.a.yaml", tmp_path / "Pulumi.b.yaml"
    src.write_text(SOURCE)
    dst.write_text("keep me\n")
    with pytest.raises(StackkitError, match="exists already; remove it, or pass --force"):
        clone(src, dst, "us-east-1")
    assert dst.read_text() == "keep me\n"
    clone(src, dst, "us-east-1", force=True)
    assert "us-east-1" in dst.read_text()
    with pytest.raises(StackkitError, match="no such stack file"):
        clone(tmp_path / "Pulumi.none.yaml", tmp_path / "Pulumi.c.yaml", "us-east-1")


def test_cloning_the_shipped_production_stack(tmp_path: Path) -> None:
    dst = tmp_path / "Pulumi.frankfurt.yaml"
    report = clone(ROOT / "Pulumi.production.yaml", dst, "eu-central-1", name="plone-frankfurt")
    text = dst.read_text()
    assert "aws:region: eu-central-1" in text and "name: plone-frankfurt" in text and "secure:" not in text
    assert report.secrets == ["stackkit:stack.ssh_private_key", "stackkit:apps.site.secret_environment.ADMIN_PASSWORD"]
    # the original's comments survive
    assert text.splitlines()[0] == (ROOT / "Pulumi.production.yaml").read_text().splitlines()[0]


def test_cli_clone_prints_the_commands(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "stackkit", "clone", "production", "nowhere-but-here", "--region",
                             "ap-south-1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    target = ROOT / "Pulumi.nowhere-but-here.yaml"
    try:
        assert result.returncode == 0, result.stderr
        assert "pulumi config set --secret --path 'stackkit:stack.ssh_private_key' --stack 'nowhere-but-here' < ~/.ssh/stackkit" in result.stdout
    finally:
        target.unlink(missing_ok=True)


def test_clone_refuses_its_own_source_even_with_force(tmp_path: Path) -> None:
    src = tmp_path / "Pulumi.prod.yaml"
    src.write_text(SOURCE)
    with pytest.raises(StackkitError, match="is the source stack file"):
        clone(src, tmp_path / "." / "Pulumi.prod.yaml", "us-east-1", force=True)
    assert src.read_text() == SOURCE


@pytest.mark.parametrize(("src", "dst", "region", "expected"), [
    ("production", "production", "eu-west-1", "dst: 'production' is the source stack"),
    ("production", ";$(id)", "eu-west-1", "dst: ';$(id)' is not a stack name"),
    ("production", "../../tmp/x", "eu-west-1", "dst: '../../tmp/x' is not a stack name"),
    ("production", "/tmp/x", "eu-west-1", "dst: '/tmp/x' is not a stack name"),
    ("../production", "x", "eu-west-1", "src: '../production' is not a stack name"),
    ("production", "x", "xx-fake-9", "--region: 'xx-fake-9' is not an AWS region stackkit knows"),
])
def test_cli_clone_refuses_bad_arguments_before_touching_a_file(src: str, dst: str, region: str, expected: str) -> None:
    before = {p.name: p.read_bytes() for p in ROOT.glob("Pulumi.*.yaml")}
    result = subprocess.run([sys.executable, "-m", "stackkit", "clone", src, dst, "--region", region, "--force"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert {p.name: p.read_bytes() for p in ROOT.glob("Pulumi.*.yaml")} == before


def test_clone_names_unreadable_sources_and_unwritable_destinations(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_bytes("config:\n  aws:region: caf\xe9\n".encode("latin-1"))
    with pytest.raises(StackkitError, match=r"line 2: byte 0xe9 is not UTF-8"):
        clone(bad, tmp_path / "Pulumi.c.yaml", "us-east-1")
    dup = tmp_path / "Pulumi.dup.yaml"
    dup.write_text("config:\n  aws:region: eu-west-1\n  aws:region: us-east-1\n")
    with pytest.raises(StackkitError, match=r"duplicate key 'aws:region' \(lines 2 and 3\)"):
        clone(dup, tmp_path / "Pulumi.c.yaml", "us-east-1")
    src = tmp_path / "Pulumi.a.yaml"
    src.write_text(SOURCE)
    with pytest.raises(StackkitError, match="cannot be written"):
        clone(src, tmp_path / "missing-folder" / "Pulumi.c.yaml", "us-east-1")


def _normalised(plan_json: list, region: str, amis: set[str]) -> str:
    text = json.dumps(plan_json, sort_keys=True)
    for ami in amis:
        text = text.replace(ami, "<ami>")
    text = text.replace(region, "<region>")
    # hashes of content that holds the region (heredoc tags, configure fingerprints) are region-derived too
    text = re.sub(r"SK_EOF_[0-9a-f]+", "SK_EOF_<hash>", text)
    # a command's job: the digest of the script it renders (the script holds the region) and the heredoc's tag
    text = re.sub(r"SK_JOB_[0-9a-f]+", "SK_JOB_<hash>", text)
    text = re.sub(r'\\"expect\\":\\"[0-9a-f]{16}\\"', '\\"expect\\":\\"<hash>\\"', text)
    return re.sub(r'"[0-9a-f]{64}"', '"<fingerprint>"', text)


def test_only_region_derived_values_differ_across_regions(stack_files: dict[str, StackFile]) -> None:
    sf = stack_files["production"]
    seen = {}
    for region in ("eu-west-1", "us-east-2", "ap-northeast-1"):
        plan = evaluate(sf, overrides={"aws:region": region})
        amis = {r.inputs["ami"] for r in plan.of_type("aws:ec2/instance:Instance")}
        raw = sorted((dict(r.to_json(), inputs=r.secret_inputs) for r in plan.resources), key=lambda d: d["urn"])
        assert region in json.dumps(raw)
        seen[region] = _normalised(raw, region, amis)
    assert len(set(seen.values())) == 1, "something besides the region, its AZs and its AMIs differs"
    assert not re.search(r"(eu|us|ap)-(west|east|northeast)-\d", seen["eu-west-1"])
