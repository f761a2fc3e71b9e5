"""A stack file on the local cloud, driven by the real Pulumi engine: `pulumi preview/up/destroy` with a file backend,
the passphrase secrets provider, the stand-in `aws` provider and (when machines are on) Debian machines on this host.

The user's files are never written. The local stack lives in a project folder of its own, `<workdir>/project`, whose
Pulumi.yaml names this repository as the program (`main:`) and its virtualenv; its Pulumi.<stack>.yaml is a copy of the
stack file where:
- secure values are set anew with `pulumi config set --secret` (through stdin, never on a command line): the SSH key
  pair is the local cloud's own, every other secret a random value kept in `<workdir>/secrets.json` (mode 600);
- `change` (stackkit.lifecycle.scenarios' format: {"apps.site.source": {...}}, {"-instances.app5": None}) is applied;
- the OS is Debian 12 and the SSH user `admin`, like the machines.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from stackkit.config.patch import apply
from stackkit.engine.toolchain import ROOT, Engine, local_engine
from stackkit.errors import LocalError


def ssh_keypair(path: Path) -> tuple[str, str]:
    """(public, private) of an ed25519 key pair at `path`, made once: the local stack's SSH key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stackkit-local", "-f", str(path)],
                       check=True)
    return path.with_suffix(".pub").read_text(), path.read_text()


def secure_paths(config: dict[str, Any]) -> list[tuple[str, list[str | int]]]:
    """Every secure value of a stack file's config: (top-level key, path below it)."""
    found: list[tuple[str, list[str | int]]] = []

    def walk(value: Any, key: str, path: list[str | int]) -> None:
        if isinstance(value, dict) and set(value) == {"secure"}:
            found.append((key, path))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, key, [*path, str(k)])
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, key, [*path, i])
    for key, value in config.items():
        walk(value, key, [])
    return found


def dotted(key: str, path: list[str | int]) -> str:
    """`pulumi config set --path` syntax: stackkit:apps.site.secret_environment.X, stackkit:x[0]."""
    out = key
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _exists(config: dict[str, Any], key: str, path: list[str | int]) -> bool:
    node: Any = config.get(key)
    for p in path:
        if isinstance(node, list):
            if not isinstance(p, int) or p >= len(node):
                return False
            node = node[p]
        elif isinstance(node, dict) and p in node:
            node = node[p]
        else:
            return False
    return node is not None


def _drop(config: dict[str, Any], key: str, path: list[str | int]) -> None:
    if not path:
        config.pop(key, None)
        return
    node = config[key]
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]


@dataclass
class LocalStack:
    stack_file: Path
    workdir: Path
    machines: dict[str, str] | None = None       # {"bridge", "subnet", "base_dir"}: instances are machines
    change: dict[str, Any] = field(default_factory=dict)   # scenarios' format: {"apps.site.source": {...}}
    main: Path = ROOT                                      # the program's folder (a copy, for a layer edit)
    ssh_key: tuple[str, str] | None = None       # (public, private) for the stack's key pair

    @property
    def stack(self) -> str:
        return self.stack_file.name[len("Pulumi."):-len(".yaml")]

    @property
    def project_dir(self) -> Path:
        return self.workdir / "project"

    @property
    def config_file(self) -> Path:
        return self.project_dir / f"Pulumi.{self.stack}.yaml"

    def engine(self) -> Engine:
        passphrase_file = self.workdir / "passphrase"
        if not passphrase_file.exists():
            self.workdir.mkdir(parents=True, exist_ok=True)
            passphrase_file.write_text(secrets.token_urlsafe(24))
            os.chmod(passphrase_file, 0o600)
        return local_engine(self.workdir, passphrase_file.read_text())

    def _secret(self, name: str) -> str:
        store = self.workdir / "secrets.json"
        values = json.loads(store.read_text()) if store.exists() else {}
        if name not in values:
            values[name] = "sk-" + secrets.token_urlsafe(18)
            store.write_text(json.dumps(values, indent=1))
            os.chmod(store, 0o600)
        return values[name]

    def secret_values(self) -> list[str]:
        """Every secret value this local stack was given (to grep the state for)."""
        store = self.workdir / "secrets.json"
        values = list(json.loads(store.read_text()).values()) if store.exists() else []
        if self.ssh_key:
            values.append(self.ssh_key[1])
        return values

    def prepare(self) -> Engine:
        """The stack on the file backend and its config file, from the stack file with the local settings."""
        engine = self.engine()
        cloud = self.workdir / "cloud"
        cloud.mkdir(parents=True, exist_ok=True)
        settings = cloud / "machines.json"
        if self.machines:
            settings.write_text(json.dumps(self.machines))
        elif settings.exists():
            settings.unlink()
        yaml = YAML()
        project = yaml.load((ROOT / "Pulumi.yaml").read_text())
        project["main"] = str(self.main)
        project["runtime"]["options"]["virtualenv"] = str(ROOT / ".venv")
        self.project_dir.mkdir(parents=True, exist_ok=True)
        with (self.project_dir / "Pulumi.yaml").open("w") as f:
            yaml.dump(project, f)
        doc = yaml.load(self.stack_file.read_text())
        config = doc["config"]
        secure = secure_paths(config)
        for key, path in secure:
            _drop(config, key, path)
        if self.change:
            changed = apply(dict(config), self.change)
            config.clear()
            config.update(changed)
        stack = config["stackkit:stack"]
        stack["os"] = "debian-12"
        stack["ssh_user"] = "admin"
        if self.ssh_key:
            stack["ssh_public_key"] = self.ssh_key[0].strip()
        keep = self.config_file.read_text() if self.config_file.exists() else ""
        salt = next((line for line in keep.splitlines() if line.startswith("encryptionsalt:")), None)
        out = StringIO()
        yaml.dump({k: v for k, v in doc.items() if k not in ("encryptionsalt", "secretsprovider")}, out)
        text = out.getvalue() + (f"{salt}\n" if salt else "")
        self.config_file.write_text(text)
        existing = engine.pulumi("stack", "ls", "--json", check=False, cwd=self.project_dir)
        names = [s["name"] for s in json.loads(existing.stdout or "[]")] if existing.returncode == 0 else []
        if self.stack not in names:
            engine.pulumi("stack", "init", self.stack, "--secrets-provider", "passphrase", cwd=self.project_dir)
        for key, path in secure:
            if not _exists(config, key, path[:-1]):
                continue        # the change removed what held it (an app, an instance)
            name = dotted(key, path)
            own_key = name == "stackkit:stack.ssh_private_key" and self.ssh_key
            value = self.ssh_key[1] if own_key and self.ssh_key else self._secret(name)
            self._config_set(engine, name, value)
        return engine

    def _config_set(self, engine: Engine, name: str, value: str) -> None:
        out = subprocess.run(["pulumi", "config", "set", "--secret", "--path", "--stack", self.stack, name,
                              "--non-interactive"],
                             input=value, cwd=self.project_dir, env=engine.env(), capture_output=True, text=True)
        if out.returncode != 0:
            raise LocalError(f"pulumi config set {name} failed: {out.stderr.strip()[-500:]}")

    def run(self, engine: Engine, verb: str, *args: str, check: bool = True,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return engine.pulumi(verb, "--stack", self.stack, *args, check=check, timeout=timeout, cwd=self.project_dir)

    def state_text(self, engine: Engine) -> str:
        """The stack's checkpoint as the backend stores it."""
        return engine.pulumi("stack", "export", "--stack", self.stack, cwd=self.project_dir).stdout


def parse_events(path: Path) -> list[dict[str, Any]]:
    """`--event-log` lines (one JSON engine event per line)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def resource_steps(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The engine's steps, in the order it finished them: {op, urn, type} (from resOutputsEvent; preview included)."""
    steps = []
    for e in events:
        out = e.get("resOutputsEvent")
        if out and out.get("metadata"):
            md = out["metadata"]
            steps.append({"op": md["op"], "urn": md["urn"], "type": md["type"]})
    return steps
