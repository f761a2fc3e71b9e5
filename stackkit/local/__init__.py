"""The local cloud: what AWS is to a stack, on this host, under Pulumi's real engine (docs/local.md, docs/engine.md).

aws/ the stand-in `aws` provider plugin; machines.py Debian 12 machines (systemd-nspawn); healer.py EC2's recover
action; hosts.py records-only hosts; playback.py EventBridge Scheduler, the scaling and wake functions; gitserve.py
app folders served by git; stack.py a stack file on the local cloud; cli.py the `stackkit local` verbs.
The core (stackkit.config, cluster, lifecycle, components) never imports this package.
"""
