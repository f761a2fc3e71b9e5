"""The real Pulumi engine on machines without AWS: the CLI (scripts/engine/build), the Python language host it needs
(langhost.py), the stand-in `aws` provider (aws/) and the environment for the local stack (toolchain.py)."""
