"""Pulumi's own engine on this machine: where the CLI and the two plugins it needs come from (toolchain.py,
plugins.py), a project driven through the Automation API (workspace.py), and what the engine did, read from its
events (events.py). Nothing here knows the local cloud (stackkit.local uses this package, never the other way)."""
