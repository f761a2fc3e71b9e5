"""Every pattern check matches the whole value (issue 22): Python's `$` also matches before a final newline, so a
`re.match(r"^...$")` lets "Plone\n" through as a Zope id and splits an nginx rewrite. The checks use `fullmatch`."""

from __future__ import annotations

import re

import pytest

from stackkit.config import aws_rules
from stackkit.config.attribute_kinds import KINDS, value_problem
from stackkit.config.inputs import domain_problem, mount_point_problem, source_url_problem
from stackkit.config.users import USER_NAME, public_key_problem
from tests.conftest import ROOT

# one valid value per string kind; each must be refused with a newline after it
KIND_EXAMPLES = {"size": "64m", "zconfig_size": "128MB", "urlpath": "/Plone", "relpath": "src/app", "version": "6.0.0",
                 "calendar": "*-*-* 02:30:00", "s3_bucket": "my-bucket", "zope_id": "Plone", "command": "echo hi"}


def test_every_kind_has_an_example() -> None:
    assert set(KIND_EXAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KIND_EXAMPLES))
def test_a_kind_refuses_a_trailing_newline(kind: str) -> None:
    assert value_problem({"type": kind}, KIND_EXAMPLES[kind]) is None
    assert value_problem({"type": kind}, KIND_EXAMPLES[kind] + "\n") is not None


@pytest.mark.parametrize(("check", "value"), [
    (lambda v: USER_NAME.fullmatch(v) is not None, "alice"),
    (lambda v: aws_rules.RDS_IDENTIFIER.fullmatch(v) is not None, "site-db"),
    (lambda v: aws_rules.HEALTH_CHECK_PATH.fullmatch(v) is not None, "/health"),
    (lambda v: domain_problem(v) is None, "www.example.org"),
    (lambda v: mount_point_problem(v) is None, "/srv/data"),
    (lambda v: source_url_problem("git", v) is None, "https://github.com/org/repo.git"),
    (lambda v: public_key_problem(v) is None,
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGy+YedXliXkVIDhUAA6XSCgkgEvBEwbNTH6t1W+3sGA"),
], ids=["user-name", "rds-identifier", "health-check-path", "domain", "mount-point", "git-url", "public-key"])
def test_a_check_refuses_a_trailing_newline(check, value: str) -> None:  # type: ignore[no-untyped-def]
    assert check(value)
    assert not check(value + "\n")


def test_no_pattern_check_uses_match() -> None:
    """No `.match(` / `re.match(` / `re.search(...$)` in the checks: a partial match is never a check."""
    used = []
    for path in [*(ROOT / "stackkit/config").glob("*.py"), ROOT / "stackkit/clone.py", ROOT / "stackkit/yamltext.py",
                 ROOT / "stackkit/lifecycle/render.py", ROOT / "stackkit/local/aws/validation.py"]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"(?<!full)match\(", line) and "fullmatch" not in line:
                used.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert used == []
