"""The adversarial corpus (payloads.yaml) in every field of the stack config: each (field, payload) is refused at load
with a problem naming the field's path, or it renders and every bundle it reaches runs on the stand-in host (sandbox.py)
without running payload code, and every daemon config it writes keeps the baseline's shape and gives back the exact
configured values, read the way the daemon reads them. Judged from outcomes only: no knowledge of how rendering escapes.

Runtime: every payload is loaded and rendered in every field; the bundles a payload changes run for the `exec: true`
payloads in rotation (three per field) and one other (SK_ADVERSARIAL_FULL=1: all of them). Counts: SK_ADVERSARIAL_REPORT=FILE.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from stackkit.config.load import Loaded, load
from stackkit.config.stackfile import read_stack_file
from stackkit.errors import ConfigError, TemplateError
from tests.adversarial import corpus, fields, lifecycle, sandbox
from tests.adversarial.corpus import FULL, PAYLOADS, Payload, Target
from tests.conftest import STACKS

FILES = {name: read_stack_file(path) for name, path in STACKS.items()}
LOADED = {name: load(sf.config, sf.secret_keys) for name, sf in FILES.items()}
FIELDS = fields.all_fields(list(LOADED.values()))
COUNTS: Counter[str] = Counter()
FAILING: list[str] = []
EXEC = [p for p in PAYLOADS if p.exec]
OTHER = [p for p in PAYLOADS if not p.exec]


def executed(index: int) -> set[str]:
    """The payloads run on the stand-in host for the index-th field (when they reach a bundle)."""
    if FULL:
        return {p.name for p in PAYLOADS}
    return {EXEC[(3 * index + j) % len(EXEC)].name for j in range(3)} | {OTHER[index % len(OTHER)].name}


@pytest.fixture(scope="module", autouse=True)
def cached_layer_specs() -> Iterator[None]:
    """The layers' metadata read once (load() reads layers/*/layer.yaml on every call): thousands of loads here."""
    import stackkit.config.load as load_module

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(load_module, "load_layer_specs", lru_cache(maxsize=4)(load_module.load_layer_specs))
        yield


@pytest.fixture(scope="module")
def host() -> Iterator[Path]:
    with sandbox.host_tools() as base:
        yield base


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        yield ex


@dataclass
class Baseline:
    name: str
    loaded: Loaded
    steps: dict[str, list[tuple[str, str]]]
    staged: dict[str, dict[str, str]]
    runs: dict[str, sandbox.Run]
    folder: Path


_BASELINES: dict[tuple[str, int | None], Baseline] = {}


def baseline(host: Path, pool: ThreadPoolExecutor, t: Target) -> Baseline:
    key = (t.base, t.scaffold)
    if key not in _BASELINES:
        config, secret = corpus.scaffolded(FILES, t.scaffold, t.base)
        loaded = load(config, secret)
        steps = lifecycle.steps(loaded)
        name = f"baseline-{t.base}-{t.scaffold}"
        runs = dict(zip(steps, pool.map(lambda i: sandbox.run(host, f"{name}-{i}", steps[i], keep=True), steps),
                        strict=True))
        _BASELINES[key] = Baseline(name, loaded, steps, {i: corpus.staged(s) for i, s in steps.items()}, runs,
                                   host / "cases")
    return _BASELINES[key]


def test_every_field_is_walked() -> None:
    """The walk finds the config models' fields and the layers' attributes, and each has a place in a shipped stack."""
    names = {str(f) for f in FIELDS}
    assert {"apps.*.environment.*", "resources.databases.*.password", "stack.ssh_user", "apps.*.domains[*]",
            "attributes:frontend.client_max_body_size", "attributes:plone.build_command"} <= names
    assert len(FIELDS) >= 90
    missing = [str(f) for f in FIELDS if corpus.target(f, FILES, LOADED) is None]
    assert not missing, f"no shipped stack has these fields and no scaffold in payloads.yaml adds them: {missing}"


@pytest.mark.parametrize("base", sorted({(corpus.target(f, FILES, LOADED) or Target("staging", None, [])).base
                                         for f in FIELDS}) + ["scaffolds"])
def test_baselines_run_clean(host: Path, pool: ThreadPoolExecutor, base: str) -> None:
    """Without a payload, every bundle of every instance runs to the end on the stand-in host and writes only files
    host.yaml knows; a failure here names the command to stub or the path to allow."""
    targets = [Target(base, None, [])] if base != "scaffolds" else [
        Target(sc["base"], i, []) for i, sc in enumerate(corpus.CORPUS["scaffolds"])]
    for t in targets:
        b = baseline(host, pool, t)
        for inst, run in b.runs.items():
            assert not run.error, f"{b.name} {inst}: {run.error}"
            bad = [(s.event, s.rc, s.stderr[-600:]) for s in run.steps if s.rc != 0]
            assert not bad, f"{b.name} {inst}: {bad}"
            assert not run.markers
            unknown = [p for p in run.written if corpus.file_format(p) is None and sandbox.MARKER not in p]
            assert not unknown, f"{b.name} {inst} wrote files host.yaml does not list: {unknown}"
            # the harness reads what was written: every config is there with content, and the exact values come back
            files = corpus.decode(run.files)
            empty = [p for p, text in files.items() if corpus.file_format(p) not in ("ignore", "lines", "env") and not text.strip()]
            assert not empty, f"{b.name} {inst}: empty files {empty}"
            assert set(b.staged[inst]) <= set(files), f"{b.name} {inst}: staged but not written {set(b.staged[inst]) - set(files)}"
            assert not corpus.value_checks(b.loaded, files, run.calls, inst), f"{b.name} {inst}"


def _one(f: fields.Field, t: Target, p: Payload, b: Baseline) -> tuple[str, list[str], Loaded | None,
                                                                        dict[str, list[tuple[str, str]]]]:
    """(outcome, problems, loaded, steps) of a payload in a field, before any run."""
    config, secret = corpus.patch(t, FILES, p.value)
    try:
        loaded = load(config, secret)
    except ConfigError as err:
        if any(path in problem for problem in err.problems for path in t.named):
            return "refused", [], None, {}
        return "refused", [f"refused without naming {t.named}: {err.problems[:3]}"], None, {}
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        return "traceback", [f"load raised {corpus.describe(exc)}"], None, {}
    try:
        steps = lifecycle.steps(loaded)
    except TemplateError as exc:
        return "render-refused", [f"loaded, then refused only at render (no config path): {str(exc).splitlines()[0][:300]}"], \
            None, {}
    except Exception as exc:  # noqa: BLE001
        return "traceback", [f"rendering raised {corpus.describe(exc)}"], None, {}
    if {i: [x for x, _ in s] for i, s in steps.items()} == {i: [x for x, _ in s] for i, s in b.steps.items()}:
        return "unreached", [], loaded, steps
    problems = []
    for inst in steps:
        if inst in b.staged:
            files = corpus.staged(steps[inst])
            problems += corpus.compare_files(b.staged[inst], files, f"{inst} staged")
            problems += [f"{inst} staged: {x}" for x in corpus.value_checks(loaded, files, None, inst)]
    return "rendered", problems, loaded, steps


def _execute(host: Path, name: str, loaded: Loaded, steps: dict[str, list[tuple[str, str]]], b: Baseline) -> list[str]:
    problems = []
    for inst, s in steps.items():
        base_steps = b.steps.get(inst)
        if base_steps is not None and [x for x, _ in s] == [x for x, _ in base_steps]:
            continue
        first = next((k for k, ((x, _), (y, _)) in enumerate(zip(s, base_steps or [], strict=False)) if x != y), 0)
        resume = (b.folder / f"{b.name}-{inst}", first - 1) if base_steps is not None and first > 0 else None
        run = sandbox.run(host, f"{name}-{inst}", s, resume=resume)
        if run.error:
            problems.append(f"{inst}: {run.error}")
        for step in run.steps:
            if step.rc != 0:
                problems.append(f"{inst} {step.event if step.event != '-' else step.bundle} exited {step.rc}: "
                                f"{step.stderr.strip()[-300:]!r}")
        if run.markers:
            problems.append(f"{inst}: PAYLOAD CODE RAN: created {run.markers}")
        if base_steps is not None:
            problems += corpus.compare_files(corpus.decode(b.runs[inst].files), corpus.decode(run.files), inst)
        problems += [f"{inst}: {x}" for x in corpus.value_checks(loaded, corpus.decode(run.files), run.calls, inst)]
    return problems


@pytest.mark.parametrize("index,f", list(enumerate(FIELDS)), ids=[str(f) for f in FIELDS])
def test_payload_in_field(host: Path, pool: ThreadPoolExecutor, index: int, f: fields.Field) -> None:
    t = corpus.target(f, FILES, LOADED)
    assert t is not None, "no shipped stack has this field (test_every_field_is_walked)"
    b = baseline(host, pool, t)
    COUNTS["fields"] += 1
    failures: list[str] = []
    runs = []
    for p in PAYLOADS:
        COUNTS["cases"] += 1
        outcome, problems, loaded, steps = _one(f, t, p, b)
        COUNTS[outcome] += 1
        failures += [f"[{p.name}] {x}" for x in problems]
        if outcome == "rendered" and not problems and p.name in executed(index) and loaded is not None:
            runs.append((p, pool.submit(_execute, host, f"{index}-{p.name}", loaded, steps, b)))
    for p, fut in runs:
        COUNTS["executed"] += 1
        problems = fut.result()
        failures += [f"[{p.name}] {x}" for x in problems]
    bad = {x.split("]")[0] for x in failures}
    COUNTS["failing"] += len(bad)
    FAILING.extend(f"{f} {x}" for x in failures)
    assert not failures, f"{len(bad)} of {len(PAYLOADS)} payloads in {f} ({t.named[0]}):\n" + "\n".join(failures)


def test_zz_report() -> None:
    """The corpus' figures (run after the fields): how many cases were refused, rendered safely, failed."""
    report: dict[str, Any] = dict(COUNTS)
    report["payloads"] = len(PAYLOADS)
    report["failures"] = FAILING
    if os.environ.get("SK_ADVERSARIAL_REPORT"):
        Path(os.environ["SK_ADVERSARIAL_REPORT"]).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "failures"}))
    assert COUNTS["cases"] == 0 or COUNTS["cases"] == COUNTS["fields"] * len(PAYLOADS)
