"""stackkit: OpsWorks Stacks' model (stacks, layers, instances, apps, lifecycle events) rebuilt on Pulumi.

The public surface: `load` / `Loaded` (the validated stack config), `evaluate` / `Plan` (the program under Pulumi's mock
runtime), `steps` (the engine's rules) and the exception tree in `stackkit.errors`. The Pulumi program itself is
`stackkit.program.run`, called by __main__.py; its components live in `stackkit.components` (imported lazily: they
pull in pulumi-aws).
"""

from stackkit.errors import ConfigError, LocalError, PlanError, StackkitError, TemplateError

__version__ = "0.1.0"
__all__ = ["ConfigError", "LocalError", "PlanError", "StackkitError", "TemplateError", "__version__"]
