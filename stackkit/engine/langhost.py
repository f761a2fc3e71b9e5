"""pulumi-language-python: the Python language host, for an engine that has none.

Pulumi's own language host (`github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3`) cannot be had from the
Go module proxy these machines reach (every version answers 403). This is the same contract, written against the
LanguageRuntime protocol the Python SDK ships: the engine starts it with its own address as the last argument, reads
the port it prints, and calls Run; Run starts Pulumi's own `pulumi-language-python-exec` (from the SDK's Go module, next
to the CLI) with the project's virtualenv python, the same arguments and the config in PULUMI_CONFIG /
PULUMI_CONFIG_SECRET_KEYS. The program, the SDK, the engine and the providers are Pulumi's; only the launcher is ours.

Plugins: GetRequiredPackages answers none, so the engine loads each provider when the program first registers one of
its resources, from PATH (no download is ever attempted).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

EXEC_NAME = "pulumi-language-python-exec"
USER_ACTIONABLE_EXIT = 32  # the exec script: an error was already shown to the user


def virtualenv_python(root: Path, options: dict[str, object]) -> str:
    """The python of the project's virtualenv (Pulumi.yaml runtime.options.virtualenv), else this one."""
    venv = options.get("virtualenv")
    if isinstance(venv, str) and venv:
        path = Path(venv) if Path(venv).is_absolute() else root / venv
        python = path / "bin" / "python"
        if python.exists():
            return str(python)
        raise FileNotFoundError(f"{python}: the virtualenv Pulumi.yaml names does not exist: run `make setup`")
    return sys.executable


def exec_script() -> str:
    """Pulumi's exec shim: beside this host's launcher (the engine cache), or on PATH."""
    for d in [Path(sys.argv[0]).resolve().parent, *map(Path, os.environ.get("PATH", "").split(os.pathsep))]:
        candidate = d / EXEC_NAME
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(f"{EXEC_NAME} not found next to the language host nor on PATH: run scripts/setup")


def run_arguments(req: language_pb2.RunRequest, engine: str) -> list[str]:
    """The exec script's command line, as Pulumi's language host builds it."""
    args: list[str] = []

    def add(flag: str, value: str) -> None:
        if value:
            args.extend([f"--{flag}", value])

    add("monitor", req.monitor_address)
    add("engine", engine)
    add("project", req.project)
    add("stack", req.stack)
    add("pwd", req.pwd)
    add("dry_run", "true" if req.dryRun else "false")
    add("parallel", str(req.parallel))
    add("organization", req.organization)
    add("root_directory", req.info.root_directory)
    program = req.info.entry_point or req.program or "."
    if req.info.program_directory and not os.path.isabs(program):
        program = os.path.join(req.info.program_directory, program)
    return [*args, program, *req.args]


def run_environment(req: language_pb2.RunRequest) -> dict[str, str]:
    env = dict(os.environ)
    env["PULUMI_CONFIG"] = json.dumps(dict(req.config))
    env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(req.configSecretKeys))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _options(info: language_pb2.ProgramInfo) -> dict[str, object]:
    from google.protobuf.json_format import MessageToDict
    return MessageToDict(info.options) if info.HasField("options") else {}


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine: str) -> None:
        self.engine = engine

    def Handshake(self, request, context):  # noqa: N802 (gRPC method names)
        self.engine = request.engine_address or self.engine
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):  # noqa: N802
        import pulumi
        return plugin_pb2.PluginInfo(version=getattr(pulumi, "__version__", "3.0.0"))

    def GetRequiredPlugins(self, request, context):  # noqa: N802
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):  # noqa: N802
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(self, request, context):  # noqa: N802
        root = Path(request.info.root_directory or request.directory)
        setup = root / "scripts" / "setup"
        if setup.exists():
            out = subprocess.run([str(setup)], cwd=root, env={**os.environ, "SKIP_APT": "1"},
                                 capture_output=True, text=True)
            yield language_pb2.InstallDependenciesResponse(stdout=out.stdout.encode(), stderr=out.stderr.encode())
            if out.returncode != 0:
                context.abort(grpc.StatusCode.UNKNOWN, f"scripts/setup failed ({out.returncode})")

    def GetProgramDependencies(self, request, context):  # noqa: N802
        return language_pb2.GetProgramDependenciesResponse()

    def About(self, request, context):  # noqa: N802
        return language_pb2.AboutResponse(executable=sys.executable, version=sys.version.split()[0])

    def RuntimeOptionsPrompts(self, request, context):  # noqa: N802
        return language_pb2.RuntimeOptionsResponse()

    def Run(self, request, context):  # noqa: N802
        try:
            python = virtualenv_python(Path(request.info.root_directory or request.pwd), _options(request.info))
            argv = [python, "-u", exec_script(), *run_arguments(request, self.engine)]
        except FileNotFoundError as exc:
            return language_pb2.RunResponse(error=str(exc))
        # the program's output goes to ours: the engine shows this plugin's stdout/stderr as the program's
        code = subprocess.run(argv, env=run_environment(request), stdout=sys.stdout, stderr=sys.stderr).returncode
        if code == 0:
            return language_pb2.RunResponse()
        if code == USER_ACTIONABLE_EXIT:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")

    def Cancel(self, request, context):  # noqa: N802
        return empty_pb2.Empty()


def main(argv: list[str]) -> int:
    engine = next((a for a in reversed(argv) if not a.startswith("-")), "")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 400 * 1024 * 1024),
                                  ("grpc.max_send_message_length", 400 * 1024 * 1024)])
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    # the engine ends its plugins with SIGINT/SIGTERM when it is done with them: leave quietly
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: os._exit(0))
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
