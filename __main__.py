"""Pulumi entry point: `pulumi up -s <stack>` runs this with the stack's config (Pulumi.<stack>.yaml)."""

from stackkit.program import run

run()
