"""The secret corpus (secrets.yaml) in every secret field: the offline plan (every resource's inputs and options, as
`stackkit plan --json` prints them) holds no form of a secret outside a secret Output. A command input that carries a
secret is a secret Output as a whole; the positive control shows each secret does reach some resource's real inputs."""

from __future__ import annotations

import base64
import copy
import io
import json
import shlex
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from stackkit.config.load import load
from stackkit.config.stackfile import StackFile, read_stack_file
from stackkit.errors import ConfigError
from stackkit.plan.evaluate import Plan, evaluate
from tests.adversarial import corpus, fields
from tests.conftest import STACKS

HERE = Path(__file__).parent
DATA = YAML(typ="safe").load((HERE / "secrets.yaml").read_text())
VALUES = [(v["name"], v["value"] if "value" in v else v["repeat"]["text"] * v["repeat"]["times"]) for v in DATA["values"]]
FILES = {name: read_stack_file(path) for name, path in STACKS.items()}
LOADED = {name: load(sf.config, sf.secret_keys) for name, sf in FILES.items()}
SECRET_FIELDS = fields.secret_fields()
KEY_FIELDS = {"stack.ssh_private_key", "apps.*.ssl.key"}


def _ending(text: str, ending: str) -> str:
    text = text.replace("\r\n", "\n")
    return {"lf": text, "crlf": text.replace("\n", "\r\n"), "no-final-newline": text.rstrip("\n")}[ending]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh OpenSSH key for the stack and a PEM key for TLS: valid keys, made here, never stored."""
    d = tmp_path_factory.mktemp("keys")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sk-test", "-f", str(d / "ssh")], check=True)
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], check=True, capture_output=True, text=True).stdout
    return {"stack.ssh_private_key": (d / "ssh").read_text(), "apps.*.ssl.key": pem}


def variants(secret: str) -> dict[str, str]:
    """Every form a secret could take in a plan: raw, trimmed, CRLF-normalised, escaped for JSON, shell, libpq, a systemd
    EnvironmentFile, base64, and each long line of a multi-line secret (a key's body)."""
    forms = {"raw": secret, "stripped": secret.strip(), "lf": secret.replace("\r\n", "\n"),
             "no-final-newline": secret.rstrip("\r\n")}
    for name, s in list(forms.items()):
        forms[f"json({name})"] = json.dumps(s)[1:-1]
        forms[f"json-ascii-off({name})"] = json.dumps(s, ensure_ascii=False)[1:-1]
        forms[f"shlex({name})"] = shlex.quote(s)
        forms[f"libpq({name})"] = s.replace("\\", "\\\\").replace("'", "\\'")
        forms[f"systemd({name})"] = "".join("\\" + c if c in '\\"$`' else c for c in s)
        forms[f"base64({name})"] = base64.b64encode(s.encode()).decode()
    for i, line in enumerate(secret.replace("\r\n", "\n").split("\n")):
        if len(line) >= 16 and not line.startswith("-----"):
            forms[f"line {i + 1}"] = line
    return {k: v for k, v in forms.items() if len(v) >= 6}


def _leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{path}.{k}", str(k)
            yield from _leaves(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value
    elif value is not None:
        yield path, json.dumps(value)


def leaks(plan: Plan, secrets: dict[str, str]) -> list[str]:
    """Where a form of a secret appears in the plan as printed (secret Outputs show as "[secret]")."""
    forms = {(name, kind): form for name, s in secrets.items() for kind, form in variants(s).items()}
    out = []
    for r in plan.to_json()["resources"]:
        for where, text in _leaves({"inputs": r["inputs"], "options": r["options"], "name": r["name"]}, ""):
            for (name, kind), form in forms.items():
                if form in text:
                    out.append(f"{r['type']} {r['name']}{where}: holds secret {name} ({kind})")
                    break
    return out


def reached(plan: Plan, secrets: dict[str, str]) -> set[str]:
    """The secrets found in the real (unredacted) inputs of some resource: the scan would see them if they leaked."""
    found = set()
    for r in plan.resources:
        texts = [text for _, text in _leaves(r.secret_inputs, "")]
        for name, s in secrets.items():
            if any(form in text for form in variants(s).values() for text in texts):
                found.add(name)
    return found


def _combos() -> list[tuple[str, int | None]]:
    """(base, scaffold) where the secret fields live: each field's own place (corpus.target) and the bases listed."""
    out = {(b, None) for b in DATA["bases"]}
    for f in SECRET_FIELDS:
        t = corpus.target(f, FILES, LOADED)
        assert t is not None, f"{f}: no stack or scaffold holds this secret field"
        out.add((t.base, t.scaffold))
    return sorted(out, key=str)


COMBOS = _combos()


def placed(config: dict[str, Any], secret: str, keys: dict[str, str], i: int) -> dict[str, str]:
    """Put `secret` (or a key, for key fields) in every secret field `config` has: path -> value set."""
    out = {}
    for f in SECRET_FIELDS:
        path = corpus.concrete(config, corpus._segments(f.path), create=False)
        if path is None or corpus._get(config, path) is None:
            continue
        value = _ending(keys[f.path], DATA["key_line_endings"][i % len(DATA["key_line_endings"])]) \
            if f.path in KEY_FIELDS else secret
        corpus._set(config, path, value)
        out[path] = value
    return out


@pytest.mark.parametrize("combo", COMBOS, ids=[f"{b}-{s}" for b, s in COMBOS])
@pytest.mark.parametrize("i,name", [(i, n) for i, (n, _) in enumerate(VALUES)], ids=[n for n, _ in VALUES])
def test_no_secret_outside_a_secret_output(combo: tuple[str, int | None], i: int, name: str, keys: dict[str, str]) -> None:
    base, scaffold = combo
    config, secret_keys = corpus.scaffolded(FILES, scaffold, base)
    config = copy.deepcopy(config)
    where = placed(config, VALUES[i][1], keys, i)
    assert where, f"{combo}: holds no secret field"
    secret_keys |= {p.split(".")[0] for p in where}
    refused: list[str] = []
    for _ in range(len(where) + 1):
        try:
            load(config, secret_keys)
            break
        except ConfigError as err:
            # a field that refuses this value (with its path): keep the base's value there, test the others
            hit = [p for p in where if any(p.split(":", 1)[1] in problem for problem in err.problems)]
            assert hit, f"refused without naming a secret field: {err.problems}"
            for p in hit:
                refused.append(f"{p}: {[x for x in err.problems if p.split(':', 1)[1] in x][0][:160]}")
                original = corpus._get(corpus.scaffolded(FILES, scaffold, base)[0], p)
                corpus._set(config, p, original)
                del where[p]
    assert where, f"every secret field refused the value: {refused}"
    sf = FILES[base]
    plan = evaluate(StackFile(sf.path, config, frozenset(secret_keys), sf.placeholders))
    secrets = {f"{name} in {p.split(':', 1)[1]}": v for p, v in where.items()}
    secrets |= {f"placeholder {p}": v for p, v in sf.placeholders.items()}
    found = leaks(plan, secrets)
    assert not found, f"{len(found)} leaks (refused here: {refused}):\n" + "\n".join(found[:40])
    assert reached(plan, {k: v for k, v in secrets.items() if not k.startswith("placeholder")}) == \
        {k for k in secrets if not k.startswith("placeholder")}, "a secret reaches no resource: the scan proves nothing"
    for r in plan.of_type("command:remote:Command"):
        if any(form in r.secret_inputs.get("stdin", "") for s in where.values() for form in variants(s).values()):
            assert r.inputs["stdin"] == "[secret]", f"{r.name}: its stdin carries a secret but is not a secret Output"
    # the instance libraries are files on this machine and in the SSH user's home, not secret Outputs: none holds one
    for r in plan.of_type("command:remote:CopyToRemote"):
        texts = _zip_texts(Path(r.secret_inputs["source"]["path"]).read_bytes())
        assert len(texts) > 3, f"{r.name}: the library holds nothing: the scan proves nothing"
        bad = [s for s in where.values() for form in variants(s).values() for t in texts if form in t]
        assert not bad, f"{r.name}: its library holds a secret"


def _zip_texts(data: bytes) -> list[str]:
    """Every file of a zip as text, the zips in it (the runtime) opened too."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            content = z.read(name)
            out += _zip_texts(content) if content[:4] == b"PK\x03\x04" else [content.decode("utf-8", "replace")]
    return out
