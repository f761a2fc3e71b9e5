"""The local cloud's stand-in for pulumi-aws: a provider plugin the real Pulumi engine loads as `aws`.

pulumi-aws's own provider cannot be built here (its go.mod replaces terraform-provider-aws with a local submodule), so
the engine talks to this one on the local stack: the same resource types and invokes the program uses, pulumi-aws's
replacement rules (schema.py, one cited table), AWS's input rules (rules.py), and this host's Debian machines for
instances (cloud.py). It is only ever on PATH for the local stack (stackkit.engine.toolchain); against AWS, Pulumi
uses the real pulumi-aws.
"""
