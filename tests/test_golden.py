"""The rendered layer scripts match their golden files (regenerate with `make golden` after an intended change)."""

from __future__ import annotations

import difflib

import pytest

from stackkit.plan.evaluate import Plan
from stackkit.plan.golden import GOLDEN, STACKS, rendered


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_rendered_scripts_match_golden_files(plans: dict[str, Plan], stack: str) -> None:
    now = rendered(plans[stack])
    on_disk = {str(p.relative_to(GOLDEN / stack)): p.read_text() for p in (GOLDEN / stack).rglob("*.sh")}
    assert sorted(now) == sorted(on_disk), "a layer script appeared or vanished: run `make golden`"
    for key, text in now.items():
        if text != on_disk[key]:
            diff = "".join(difflib.unified_diff(on_disk[key].splitlines(True), text.splitlines(True), key, "now"))
            pytest.fail(f"{stack}/{key} differs from its golden file (run `make golden` if intended):\n{diff[:3000]}")
    assert len(now) >= 8
