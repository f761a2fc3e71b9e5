"""The load-time checks of `stackkit:users` against the rest of the stack: each name a Linux user name stackkit may
create (not the deploy user, a layer's service user, nor an account or group of the image), each layer one of the
stack's. The model is stackkit.config.users, a floor below stackkit.config.models."""

from __future__ import annotations

from collections.abc import Iterator

from stackkit.config.layerspec import LayerSpec
from stackkit.config.models import StackConfig
from stackkit.config.users import SYSTEM_NAMES, USER_NAME


def user_problems(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """users.<name>: a Linux user name stackkit may create, and users.<name>.layers: layers of the stack."""
    layer_users = {u.name: la for la, spec in specs.items() for u in spec.users}
    for name, user in cfg.users.items():
        if not USER_NAME.fullmatch(name):
            yield (f"users: {name[:40]!r} is not a Linux user name: a lowercase letter or _, then lowercase letters, "
                   "digits, _ or -, at most 32 characters (e.g. alice)")
        elif name == cfg.stack.user:
            yield (f"users.{name}: is the deploy user (stack.user) that stackkit itself logs in as; its access comes "
                   "from the stack's key pair and is never managed here: pick another name")
        elif name in layer_users:
            yield (f"users.{name}: is the service user of layer {layer_users[name]} (layers/{layer_users[name]}/"
                   "layer.yaml users): pick another name")
        elif name in SYSTEM_NAMES:
            yield f"users.{name}: is a system account or group of the image or its packages: pick another name"
        known = cfg.layers.keys()
        for i, layer in enumerate(user.layers or []):
            if layer not in known:
                yield f"users.{name}.layers[{i}]: unknown layer '{layer}' (known: {', '.join(sorted(known))})"
        if user.layers == []:
            yield (f"users.{name}.layers: is empty; list the layers whose instances {name} logs in to, or remove "
                   "layers for every instance (to remove the user, remove users." + name + ")")
        elif user.layers is not None and len(set(user.layers)) != len(user.layers):
            yield f"users.{name}.layers: lists a layer twice"
