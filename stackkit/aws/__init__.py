"""AWS's own facts that more than one part of stackkit reads (replacement.py: what replaces a resource). Neutral:
it imports nothing of stackkit but the instance-type catalog (stackkit.config.instance_types)."""
