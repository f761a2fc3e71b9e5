"""A stack file on the local cloud, under the real Pulumi engine (pulumi.automation): the project, its config and
secrets, the plugins, and what its instances are.

The user's files are never written. Under a private folder (stackkit.local.files; default /var/tmp/stackkit-local):

    pulumi-home/                 PULUMI_HOME of every local stack: the stand-in `aws` plugin (stackkit.local.aws, as
                                 resource-aws at pulumi-aws' version) and pulumi-command's provider, installed in its
                                 plugin cache; the user's own ~/.pulumi is never touched, and no plugin comes from PATH
    <stack>/project/Pulumi.yaml            name stackkit, main: the program's folder, runtime: this virtualenv
    <stack>/project/Pulumi.<stack>.yaml    the stack file's config, without its secure values, with `change` applied
                                           and the local settings (Debian 12, user admin, the local SSH key); every
                                           secure value is set anew through stdin: the local SSH key, or a random
                                           value kept in secrets.json (0600)
    <stack>/state/               the file backend; passphrase secrets (the passphrase in a 0600 file)
    <stack>/cloud/               the stand-in's records and what instances are (cloud.json: stackkit.local.aws.cloud)

Nothing is ever downloaded (PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION), no plugin is taken from PATH
(PULUMI_IGNORE_AMBIENT_PLUGINS), and no AWS credential is read by anything that runs.
"""

from __future__ import annotations

import copy
import json
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from ruamel.yaml import YAML

from stackkit.config.patch import apply, split
from stackkit.config.stackfile import read_stack_file
from stackkit.engine import plugins, workspace
from stackkit.engine.events import Recorder
from stackkit.engine.toolchain import cli, installed_plugin, language_host, run_pulumi
from stackkit.errors import LocalError
from stackkit.local.aws.cloud import Cloud, Settings
from stackkit.local.aws.kinds import aws_version
from stackkit.local.files import private_dir, write_private
from stackkit.paths import LAYERS_DIR, ROOT, layers_tree

OnEvent = Callable[[auto.EngineEvent], None]


def plugin_home(base: Path) -> Path:
    """The local cloud's PULUMI_HOME, with the stand-in aws plugin and pulumi-command's provider installed."""
    home = private_dir(private_dir(base) / "pulumi-home")
    pulumi = cli()
    version = f"v{aws_version()}"
    wrapper = ("#!/bin/sh\n# stackkit's local cloud: the stand-in for pulumi-aws (stackkit.local.aws)\n"
               f"PYTHONPATH={_quote(str(ROOT))}${{PYTHONPATH:+:$PYTHONPATH}} "
               f"exec {_quote(sys.executable)} -m stackkit.local.aws \"$@\"\n")
    installed = installed_plugin("resource", "aws", version, home)
    if installed is None or installed.read_text() != wrapper:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "pulumi-resource-aws"
            script.write_text(wrapper)
            script.chmod(0o755)
            out = run_pulumi(pulumi, "plugin", "install", "resource", "aws", version, "--file", str(script),
                             "--reinstall", home=home)
            if out.returncode != 0:
                raise LocalError(f"installing the local cloud's aws plugin failed: {out.stderr.strip()[-500:]}")
    command = plugins.COMMAND
    if installed_plugin(command.kind, command.name, command.version, home) is None:
        exe = installed_plugin(command.kind, command.name, command.version)
        if exe is None:
            exe, _ = plugins.provide_command(pulumi, None)   # raises naming the three ways when it cannot
        out = run_pulumi(pulumi, "plugin", "install", command.kind, command.name, command.version, "--file", str(exe),
                         home=home)
        if out.returncode != 0:
            raise LocalError(f"installing {command.label} for the local cloud failed: {out.stderr.strip()[-500:]}")
    if language_host(pulumi) is None:
        plugins.provide_python(pulumi, None)          # raises naming the three ways when it cannot
    return home


def engine_env(workdir: Path) -> dict[str, str]:
    """The engine's environment for a project on the local cloud in `workdir`: its file backend (state/), passphrase
    secrets (a 0600 file), its cloud (cloud/), no download, no plugin from PATH."""
    passphrase = private_dir(workdir) / "passphrase"
    if not passphrase.exists():
        write_private(passphrase, secrets.token_urlsafe(24))
    state = private_dir(workdir / "state")
    return {
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        "STACKKIT_LOCAL_CLOUD": str(private_dir(workdir / "cloud")),
    }


def checkpoint_text(workdir: Path, project: str, stack: str) -> str:
    """The stack's checkpoint as the file backend stores it (secrets encrypted): what is at rest."""
    return (workdir / "state" / ".pulumi" / "stacks" / project / f"{stack}.json").read_text()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def ssh_keypair(path: Path) -> tuple[str, str]:
    """(public, private) of an ed25519 key pair at `path`, made once: a local stack's SSH key."""
    if not path.exists():
        private_dir(path.parent)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stackkit-local", "-f", str(path)],
                       check=True)
    return path.with_suffix(".pub").read_text().strip(), path.read_text()


@dataclass
class LocalStack:
    stack_file: Path
    base: Path                                    # the local cloud's folder (private)
    settings: Settings | None = None              # what instances are (None: records only)
    change: dict[str, Any] = field(default_factory=dict)   # stackkit.config.patch's format: {"apps.site.source": ...}
    config: dict[str, Any] | None = None          # instead of the stack file's config (its secure paths still apply)
    program: Path | None = None                   # the program's folder (default: the stack file's, else this repo)
    ssh_key: tuple[str, str] | None = None        # (public, private) for the stack's SSH key pair
    name: str | None = None                       # the local stack's name (default: the stack file's)
    _stack: auto.Stack | None = field(default=None, init=False, repr=False)

    # --- where things are ------------------------------------------------------------------------------------------
    @property
    def stack(self) -> str:
        return self.name or self.stack_file.name[len("Pulumi."):-len(".yaml")]

    @property
    def workdir(self) -> Path:
        return private_dir(private_dir(self.base) / self.stack)

    @property
    def project_dir(self) -> Path:
        return self.workdir / "project"

    @property
    def cloud(self) -> Cloud:
        return Cloud(self.workdir / "cloud")

    def _program(self) -> Path:
        if self.program is not None:
            return self.program
        return self.stack_file.parent if (self.stack_file.parent / "__main__.py").exists() else ROOT

    def env(self) -> dict[str, str]:
        env = engine_env(self.workdir)
        tree = layers_tree(self.stack_file)      # the layers beside the stack file before stackkit's own
        if tree != LAYERS_DIR:
            env["STACKKIT_LAYERS_DIR"] = str(tree)
        return env

    # --- secrets -----------------------------------------------------------------------------------------------------
    def secret(self, path: str) -> str:
        """The value the local stack gives the secure value at `path` (its own, random, kept 0600)."""
        if path == "stackkit:stack.ssh_private_key" and self.ssh_key is not None:
            return self.ssh_key[1]
        store = self.workdir / "secrets.json"
        values = json.loads(store.read_text()) if store.exists() else {}
        if path not in values:
            values[path] = "sk-" + secrets.token_urlsafe(18)
            write_private(store, json.dumps(values, indent=1))
        return str(values[path])

    def secret_values(self) -> list[str]:
        """Every secret value this local stack was given (to look for in its state and the cloud's files)."""
        store = self.workdir / "secrets.json"
        values = list(json.loads(store.read_text()).values()) if store.exists() else []
        return values + ([self.ssh_key[1]] if self.ssh_key else [])

    # --- the stack ---------------------------------------------------------------------------------------------------
    def prepare(self) -> auto.Stack:
        """The project, the stack on the file backend and its config, from the stack file with the local settings."""
        cloud_dir = private_dir(self.workdir / "cloud")
        settings_file = cloud_dir / "cloud.json"
        if self.settings is not None:
            write_private(settings_file, json.dumps(self.settings.__dict__))
        else:
            settings_file.unlink(missing_ok=True)
        home = plugin_home(self.base)
        yaml = YAML()
        private_dir(self.project_dir)
        project = yaml.load((ROOT / "Pulumi.yaml").read_text())
        project["main"] = str(self._program())
        project["runtime"]["options"]["virtualenv"] = sys.prefix
        out = StringIO()
        yaml.dump(project, out)
        write_private(self.project_dir / "Pulumi.yaml", out.getvalue())

        sf = read_stack_file(self.stack_file)
        config = copy.deepcopy(self.config if self.config is not None else sf.config)
        if self.change:
            config = apply(config, self.change)
        stack = config["stackkit:stack"]
        stack["os"] = "debian-12"
        stack["ssh_user"] = "admin"
        if self.ssh_key is not None:
            stack["ssh_public_key"] = self.ssh_key[0]
        # every secure path of the stack file stays secret: a placeholder (a value the stack file encrypts) gets the
        # local stack's own random value, a value a change put there is set as given, both through stdin
        secure = {p: (self.secret(p) if value == placeholder else str(value)) for p, placeholder in sf.placeholders.items()
                  if (value := _lookup(config, p)) is not None}
        for path in secure:
            _drop(config, path)
        config_file = self.project_dir / f"Pulumi.{self.stack}.yaml"
        keep = config_file.read_text() if config_file.exists() else ""
        salt = next((line for line in keep.splitlines() if line.startswith("encryptionsalt:")), None)
        out = StringIO()
        yaml.dump({"config": config}, out)
        write_private(config_file, out.getvalue() + (f"{salt}\n" if salt else ""))
        self._stack = workspace.select(self.project_dir, self.stack, self.env(), pulumi_home=home)
        for path, value in secure.items():
            workspace.config_set_secret(self._stack, path, value)
        return self._stack

    @property
    def engine(self) -> auto.Stack:
        return self._stack if self._stack is not None else self.prepare()

    def up(self, on_event: OnEvent | None = None, replace: list[str] | None = None) -> Recorder:
        """`pulumi up`: the engine's steps (engine.events), every event handed to `on_event` as it comes."""
        rec = Recorder(then=on_event)
        try:
            self.engine.up(on_event=rec, replace=replace, show_secrets=False, color="never")
        except auto.CommandError as exc:
            raise UpFailed(self.stack, rec, str(exc)) from None
        return rec

    def preview(self, on_event: OnEvent | None = None) -> Recorder:
        rec = Recorder(then=on_event)
        try:
            self.engine.preview(on_event=rec, color="never")
        except auto.CommandError as exc:
            raise UpFailed(self.stack, rec, str(exc), verb="preview") from None
        return rec

    def destroy(self, on_event: OnEvent | None = None, exclude_protected: bool = False) -> Recorder:
        rec = Recorder(then=on_event)
        try:
            self.engine.destroy(on_event=rec, color="never", exclude_protected=exclude_protected or None)
        except auto.CommandError as exc:
            raise UpFailed(self.stack, rec, str(exc), verb="destroy") from None
        return rec

    def outputs(self) -> dict[str, Any]:
        return {k: v.value for k, v in self.engine.outputs().items()}

    def export(self) -> dict[str, Any]:
        """The stack's deployment, secrets decrypted (pulumi.automation's export: `stack export --show-secrets`)."""
        return dict(self.engine.export_stack().deployment or {})

    def checkpoint(self) -> str:
        """The stack's checkpoint as it is at rest (secrets encrypted)."""
        return checkpoint_text(self.workdir, "stackkit", self.stack)

    def urn(self, type_: str, name: str, parents: tuple[str, ...] = ()) -> str:
        """The URN of a resource of the program (`parents`: the component types above it, below the Stack)."""
        chain = "$".join(("stackkit:index:Stack", *parents, type_))
        return f"urn:pulumi:{self.stack}::stackkit::{chain}::{name}"


class UpFailed(LocalError):
    """`pulumi up` (or preview, destroy) failed: what the engine did until then, and its message."""

    def __init__(self, stack: str, recorder: Recorder, message: str, verb: str = "up") -> None:
        self.recorder = recorder
        failed = [s.name for s in recorder.steps if s.failed]
        errors = [f"{name}: {text}" if name else text for name, text in recorder.errors]
        detail = "\n".join(errors)[-4000:] if errors else "\n".join(message.strip().splitlines()[-30:])
        super().__init__(f"pulumi {verb} of {stack} failed" + (f" at {', '.join(failed)}" if failed else "")
                         + f":\n{detail}\nfix the script or the config, then run it again: it resumes where it stopped")


def _lookup(config: Mapping[str, Any], path: str) -> Any:
    key, rest = split(path)
    node: Any = config.get(key)
    for p in rest:
        inside = isinstance(node, list) and isinstance(p, int) and p < len(node) or isinstance(node, dict) and p in node
        if not inside:
            return None
        node = node[p]  # type: ignore[index]
    return node


def _drop(config: dict[str, Any], path: str) -> None:
    key, rest = split(path)
    if not rest:
        config.pop(key, None)
        return
    node = config[key]
    for p in rest[:-1]:
        node = node[p]
    del node[rest[-1]]
