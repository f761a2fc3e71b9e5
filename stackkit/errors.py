"""The exception tree of stackkit.

    StackkitError                 every error stackkit raises on purpose; the CLI prints it without a traceback
    ├── ConfigError               the stack config or a layer.yaml is invalid: one line per problem, each with its path
    ├── DataMoveError             the edit would move or lose data the last deployment holds (stackkit.cluster.data)
    ├── TemplateError             a layer template failed to render: file, line and the lines around it
    ├── PlanError                 the program failed under the mock runtime
    ├── OpsWorksImportError       `import opsworks`: the input cannot be read or mapped (file and place named)
    └── LocalError                `stackkit local`: a machine, the network or a lifecycle command failed
"""

from __future__ import annotations


class StackkitError(Exception):
    """Base of every error stackkit raises on purpose."""


class ConfigError(StackkitError):
    """The stack config (or a layer's metadata) is invalid. `problems` holds one 'path: message' line each."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = sorted(dict.fromkeys(problems))
        self.source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        super().__init__(f"{head}{n} problem{'s' if n != 1 else ''} in the stack config:\n" + "\n".join(
            f"  {p}" for p in self.problems))


class DataMoveError(StackkitError):
    """A config edit would move or lose a data holder of the last deployment. `problems`: one 'path: message' each."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        n = len(problems)
        super().__init__(f"{head}refused before anything runs: {n} edit{'s' if n != 1 else ''} would move or lose "
                         "data:\n" + "\n".join(f"  {p}" for p in problems))


class TemplateError(StackkitError):
    """A layer template failed to render: names the file and line."""


class PlanError(StackkitError):
    """Evaluating the program under the mock runtime failed."""


class LocalError(StackkitError):
    """`stackkit local` failed: a machine, the bridge, or a lifecycle command."""


class OpsWorksImportError(StackkitError):
    """`import opsworks` cannot read or map its input. `problems`: one 'file: place: message' line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(dict.fromkeys(problems))
        n = len(self.problems)
        super().__init__(f"import refused, nothing written: {n} problem{'s' if n != 1 else ''}:\n"
                         + "\n".join(f"  {p}" for p in self.problems))
