"""The JSON Schema of the stack config, generated from the models: one property per Pulumi config key."""

from __future__ import annotations

from typing import Any

from stackkit.config.models import StackConfig


def schema() -> dict[str, Any]:
    model = StackConfig.model_json_schema(by_alias=True)
    props = model.pop("properties")
    required = model.pop("required", [])
    keyed = {("aws:region" if k == "region" else f"stackkit:{k}"): v for k, v in props.items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "stackkit stack config (the `config:` mapping of Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": keyed,
        "required": [("aws:region" if k == "region" else f"stackkit:{k}") for k in required],
        "additionalProperties": True,
        "$defs": model.get("$defs", {}),
    }
