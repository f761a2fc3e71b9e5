"""Writing the imported project: everything goes to a temporary folder beside DIR, and becomes DIR only when all of it
is written; a failed import leaves DIR as it was (absent, or untouched)."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from stackkit.errors import OpsWorksImportError
from stackkit.importer.mapping import Project
from stackkit.paths import ROOT

PULUMI_YAML = """\
name: stackkit
description: imported from OpsWorks ({source})
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: {venv}
main: {main}
"""


def dump(value: Any) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(value, buf)
    return buf.getvalue()


def stack_file(project: Project, stack: str, source: str) -> str:
    head = [f"# Imported from OpsWorks ({source}) by `python -m stackkit import opsworks`: read IMPORT.md first.",
            "# Secure values are placeholders: set each before `pulumi up` "
            f"(python -m stackkit secrets --config Pulumi.{stack}.yaml lists them)."]
    return "\n".join(head) + "\n" + dump({"config": project.config})


def files(project: Project, stack: str, source: str, report: str, out_dir: Path) -> dict[str, str]:
    """The project's files by path under DIR. Its Pulumi.yaml runs stackkit's program (main: relative to DIR)."""
    main = os.path.relpath(ROOT, out_dir.resolve())
    out = {f"Pulumi.{stack}.yaml": stack_file(project, stack, source),
           "Pulumi.yaml": PULUMI_YAML.format(source=source.replace("\n", " "), venv=f"{main}/.venv", main=main),
           "IMPORT.md": report, **project.files}
    for name, layer in sorted(project.layers.items()):
        out[f"layers/{name}/layer.yaml"] = (f"# {name}: imported from the OpsWorks layer {layer.opsworks_name!r}\n"
                                            + dump(layer.spec))
        for event, text in layer.scripts.items():
            out[f"layers/{name}/{event}.sh.j2"] = text
        out[f"layers/{name}/README.md"] = (f"# Layer {name}\n\nImported from the OpsWorks layer "
                                           f"{layer.opsworks_name!r}. Its scripts list the recipes that ran at each "
                                           "event; port the ones marked `port` (../../IMPORT.md, docs/porting.md).\n")
    return out


def write(out_dir: Path, contents: dict[str, str], force: bool = False) -> None:
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise OpsWorksImportError([f"{out_dir}: exists and is not empty; name a new folder (or --force to replace "
                                   "it)"])
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.import-", dir=out_dir.parent))
    try:
        for rel, text in contents.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.replaced")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
