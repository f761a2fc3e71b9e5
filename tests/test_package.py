"""stackkit as a package (issue 24): the wheel built from this checkout, installed into a fresh virtualenv, and a
project made from templates/stackkit with `pulumi new` that plans with that install, offline.

The fresh virtualenv gets stackkit from the wheel only; its dependencies are linked from this checkout's virtualenv,
exactly those requirements.txt names and theirs (the same pinned versions, nothing downloaded), so an undeclared
import fails as after a real install, and `pip check` proves the wheel's requirements hold there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from stackkit.engine.toolchain import cli
from stackkit.paths import CHECKOUT

pytestmark = pytest.mark.package
TEMPLATE = "templates/stackkit"
SHIPPED = ["frontend", "maintenance", "plone", "zeoserver"]      # the layers the template's staging stack uses
MARK = "# this project's own maintenance layer"


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STACKKIT_LAYERS_DIR", "VIRTUAL_ENV")}
    out = subprocess.run(argv, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{' '.join(argv)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out


def _checkout() -> Path:
    assert CHECKOUT is not None, "the package tests build the wheel from a checkout"
    return CHECKOUT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # the build backend pinned in pyproject.toml comes from requirements-dev.txt: no index needed
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
          "-w", str(out), str(_checkout())], cwd=out)
    (found,) = out.glob("stackkit-*.whl")
    return found


def _pins() -> list[str]:
    return [line for line in (_checkout() / "requirements.txt").read_text().splitlines()
            if line and not line.startswith("#")]


def _declared_dependencies(target: Path, *also: str) -> None:
    """Links in `target` to exactly the distributions requirements.txt names and theirs, from this virtualenv: an
    import of anything undeclared fails there as it would after a real `pip install` of the wheel."""
    from importlib import metadata

    from packaging.requirements import Requirement

    purelib = Path(sysconfig.get_paths()["purelib"])
    todo, seen = [Requirement(p) for p in [*_pins(), *also]], set()
    while todo:
        req = todo.pop()
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        dist = metadata.distribution(req.name)
        todo.extend(Requirement(r) for r in dist.requires or [])
        for top in {f.parts[0] for f in dist.files or [] if f.parts[0] != ".."}:
            if (purelib / top).exists() and not (target / top).exists():
                (target / top).symlink_to(purelib / top)


def _fresh_venv(env: Path, *install: str, build: bool = False) -> Path:
    """A virtualenv at `env` with `pip install --no-deps *install`; its dependencies are the declared ones, linked
    from this virtualenv (nothing downloaded), and `pip check` proves they satisfy stackkit's requirements. `build`: with
    the build backend too (an editable install builds in the target virtualenv)."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(env)], cwd=env.parent)
    purelib = Path(_run([str(env / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=env.parent).stdout.strip())
    deps = env / "dependencies"
    deps.mkdir()
    _declared_dependencies(deps, *(["hatchling"] if build else []))
    (purelib / "dependencies.pth").write_text(f"{deps}\n")
    pip = [sys.executable, "-m", "pip", "--python", str(env / "bin/python")]
    _run([*pip, "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", *install], cwd=env.parent)
    _run([*pip, "check"], cwd=env.parent)
    return env


def _paths(env: Path, cwd: Path) -> dict[str, str]:
    """stackkit.paths as the installed stackkit sees them, run from `cwd`."""
    out = _run([str(env / "bin/python"), "-c", "import json; from stackkit import paths; print(json.dumps({k: str(v) "
                "for k, v in vars(paths).items() if k in ('PACKAGE', 'CHECKOUT', 'PACKAGED_LAYERS', 'LAYERS_DIR', 'ROOT')}))"],
               cwd=cwd)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding stackkit from the wheel."""
    return _fresh_venv(tmp_path_factory.mktemp("venv") / "venv", str(wheel))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made from the template as a user makes it: `pulumi new <path>` (offline: --generate-only)."""
    folder = tmp_path_factory.mktemp("project") / "shop"
    folder.mkdir()
    _run([str(cli()), "new", str(_checkout() / TEMPLATE), "--generate-only", "--yes", "--force", "--name", "shop",
          "--description", "the shop's stacks", "--stack", "staging"], cwd=folder,
         PULUMI_HOME=str(folder.parent / "pulumi-home"), PULUMI_SKIP_UPDATE_CHECK="true")
    return folder


def _plan(venv: Path, project: Path) -> dict:
    out = _run([str(venv / "bin/stackkit"), "plan", "staging", "--json"], cwd=project)
    return json.loads(out.stdout)


def _normalized(requirement: str) -> str:
    """A requirement as wheel metadata spells it (PEP 503 name: ruamel.yaml is ruamel-yaml)."""
    name, _, rest = requirement.partition("==")
    return re.sub(r"[-_.]+", "-", name).lower() + "==" + rest


def _library(project: Path) -> bytes:
    """Every file of the uploads this project's plan wrote (the layers' scripts and templates, content-addressed)."""
    zips = sorted((project / ".stackkit/library").glob("*.zip"), key=lambda p: p.stat().st_mtime)
    with zipfile.ZipFile(zips[-1]) as z:
        return b"\n".join(z.read(n) for n in z.namelist())


def test_the_wheel_holds_the_library_and_the_shipped_layers(wheel: Path) -> None:
    root = _checkout()
    tracked = subprocess.run(["git", "-C", str(root), "ls-files", "stackkit", "layers"], capture_output=True, text=True,
                             check=True).stdout.split()
    expected = {("stackkit/" + f if f.startswith("layers/") else f) for f in tracked}
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert {n for n in names if ".dist-info/" not in n} == expected
    assert "stackkit = stackkit.cli:main" in entry_points
    # the wheel requires what requirements.txt pins (Pulumi.yaml's `pulumi install` and scripts/setup read that file)
    pins = _pins()
    requires = [line.removeprefix("Requires-Dist: ") for line in meta.splitlines() if line.startswith("Requires-Dist: ")]
    assert sorted(r for r in requires if "; extra ==" not in r) == sorted(_normalized(p) for p in pins)
    # the live OpsWorks import's client, an extra (`pip install stackkit[opsworks]`), pinned as requirements-dev.txt
    assert [r for r in requires if "; extra ==" in r] == ["boto3==1.44.8; extra == 'opsworks'"]


def test_the_stackkit_command_has_the_verbs_of_python_m_stackkit(venv: Path, tmp_path: Path) -> None:
    installed = _run([str(venv / "bin/stackkit"), "--help"], cwd=tmp_path).stdout
    here = _run([sys.executable, "-m", "stackkit", "--help"], cwd=_checkout()).stdout
    assert installed.startswith("usage: stackkit ") and here.startswith("usage: python -m stackkit ")
    assert installed.split("positional arguments:")[1] == here.split("positional arguments:")[1]
    paths = _paths(venv, tmp_path)
    package = Path(paths["PACKAGE"])
    assert package.is_relative_to(venv), "stackkit must come from the wheel, not from the checkout"
    assert paths == {"PACKAGE": str(package), "CHECKOUT": "None", "PACKAGED_LAYERS": str(package / "layers"),
                     "LAYERS_DIR": str(package / "layers"), "ROOT": str(tmp_path.resolve())}
    assert sorted(p.name for p in (package / "layers").iterdir()) == sorted(p.name for p in (_checkout() / "layers").iterdir())


def test_an_editable_install_runs_from_the_checkout(tmp_path: Path) -> None:
    """`pip install -e .`: the checkout on sys.path (hatch's dev-mode-dirs), its layers/ where they are, no copy."""
    env = _fresh_venv(tmp_path / "venv", "--editable", str(_checkout()), build=True)
    root = _checkout()
    assert _paths(env, tmp_path) == {"PACKAGE": str(root / "stackkit"), "CHECKOUT": str(root),
                                     "PACKAGED_LAYERS": str(root / "layers"), "LAYERS_DIR": str(root / "layers"),
                                     "ROOT": str(root)}
    assert not list(env.glob("lib/*/site-packages/stackkit")), "an editable install copies nothing of stackkit"
    assert _run([str(env / "bin/stackkit"), "--help"], cwd=tmp_path).stdout.startswith("usage: stackkit ")


def test_the_template_makes_a_user_project(project: Path) -> None:
    assert sorted(p.name for p in project.iterdir()) == [".gitignore", "Pulumi.staging.yaml", "Pulumi.yaml", "README.md", "__main__.py",
                                                         "layers", "requirements.txt"]
    assert len((project / "__main__.py").read_text().splitlines()) == 2
    assert YAML(typ="safe").load((project / "Pulumi.yaml").read_text())["name"] == "shop"
    version = next(line.split('"')[1] for line in (_checkout() / "pyproject.toml").read_text().splitlines()
                   if line.startswith("version = "))
    assert "stackkit==" + version in (project / "requirements.txt").read_text().split()


def test_a_project_plans_with_the_installed_shipped_layers(venv: Path, project: Path, tmp_path: Path) -> None:
    """The template's project without its own layer: the shipped layers come from the installed package."""
    bare = tmp_path / "bare"
    subprocess.run(["cp", "-r", str(project), str(bare)], check=True)
    yaml = YAML()
    stack_file = bare / "Pulumi.staging.yaml"
    doc = yaml.load(stack_file.read_text())
    del doc["config"]["stackkit:layers"]["motd"]
    doc["config"]["stackkit:instances"]["stage1"]["layers"].remove("motd")
    with stack_file.open("w") as f:
        yaml.dump(doc, f)
    subprocess.run(["rm", "-r", str(bare / "layers")], check=True)
    plan = _plan(venv, bare)
    assert sorted(r["name"] for r in plan["resources"] if r["type"] == "stackkit:index:Layer") == SHIPPED
    assert b"sk_install /etc/systemd/system/varnish.service.d/stackkit.conf" in _library(bare)


def test_a_projects_own_layers_come_before_the_shipped_ones(venv: Path, project: Path) -> None:
    own = project / "layers/maintenance"
    subprocess.run(["cp", "-r", str(_checkout() / "layers/maintenance"), str(own)], check=True)
    setup = own / "setup.sh.j2"
    setup.write_text(setup.read_text() + MARK + "\n")
    plan = _plan(venv, project)
    assert sorted(r["name"] for r in plan["resources"] if r["type"] == "stackkit:index:Layer") == sorted([*SHIPPED, "motd"])
    library = _library(project)
    assert b"sk_install /etc/motd" in library
    assert MARK.encode() in library
