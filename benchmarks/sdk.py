"""The SDK classes a hand-written program registers pulumi-aws's and pulumi-command's resources by: the baseline of
benchmarks/growth.py (mock runtime) and of benchmarks/bare_program (the real engine). Imports only pulumi, so that a
bare program pays for no stackkit import."""

from __future__ import annotations

import importlib
import sys


def typed_class(token: str) -> tuple[type, dict[str, str]] | None:
    """The SDK class a hand-written program would use for a resource type ("aws:ec2/instance:Instance" ->
    pulumi_aws.ec2.Instance), and its arguments' wire name -> Python name; None for a type it cannot find."""
    package, module, name = token.split(":")
    modules = {"aws": "pulumi_aws", "command": "pulumi_command", "pulumi": "pulumi"}
    if package not in modules:
        return None
    path = modules[package] if module in ("index", "pulumi") else f"{modules[package]}.{module.split('/')[0]}"
    for candidate in (path, path + "_"):         # pulumi_aws.lambda_
        try:
            mod = importlib.import_module(candidate)
        except ImportError:
            continue
        cls = getattr(mod, name, None)
        args = getattr(sys.modules[cls.__module__], name + "Args", None) if cls is not None else None   # pulumi.stash
        if cls is not None and args is not None:
            from pulumi import _types
            return cls, {wire: py for py, wire in _types.input_type_py_to_pulumi_names(args).items()}
    return None
