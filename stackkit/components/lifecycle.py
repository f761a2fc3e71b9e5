"""The lifecycle commands of every instance, as pulumi-command remote.Command resources parented to their Instance.

Per instance: setup; deploy|undeploy per app of its layers; configure; prepare|shutdown; users|lock_users when
stackkit:users gives it a user. The order and the re-run rules (docs/lifecycle.md) come from the graph built here:

    ec2 ─ volumes/EIP ─ setup ─ deploy(app, batch k) ─ … ─ members-ready (barrier) ─ configure ─ shutdown ─ LB attachment

- setup re-runs when its bundle (packages, scripts, volumes) changes (update) or the instance / setup_nonce changes (replace);
- deploy re-runs on a new revision, environment, script or redeploy nonce (update; never undeploy); its delete is undeploy,
  skipped when the instance itself goes away (deleted_with);
- configure's triggers are the fingerprint of the state its layers watch: only a change there replaces (re-runs) it;
- shutdown's create only prepares; its delete runs the layers' shutdown scripts while the host is still up: after the
  survivors' configure (deletes run last), before volumes detach and the instance terminates (reverse dependency order);
- users runs after setup and waits for no deploy; its input is only the deploy user's keys and the users of the
  instance (users_view), so a change to stackkit:users or stack.ssh_authorized_keys updates (re-runs) it on the
  instances concerned and nothing else; its delete (lock_users) locks every user stackkit created there; it goes unrun
  with its instance.

Every command's update runs its job only when the job changed (stackkit.lifecycle.host: `--if-changed`):
pulumi-command updates a command whenever any input changes, its connection included, and a connection changes with
the bastion or the stack's SSH key, never what the script does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi_command import remote

from stackkit.cluster.state import (
    DatabaseFacts,
    InstanceFacts,
    carries_secret,
    fingerprint,
    redacted,
    users_view,
    view,
    watched_instances,
)
from stackkit.components.instance import Instance
from stackkit.components.wake import Wake, digest
from stackkit.config.load import Loaded
from stackkit.config.load_based_stack import gate_payload
from stackkit.config.placement import is_public
from stackkit.lifecycle.bundle import event_layers, files, library, users_stdin
from stackkit.lifecycle.bundle import stdin as command_stdin
from stackkit.lifecycle.script import RUN_JOB, UPDATE_JOB, UPLOAD

SECRET_OUTPUTS = ["stdout", "stderr"]
COMMANDS_OUTPUT = "commands"


@dataclass
class Lifecycle:
    setup: dict[str, remote.Command]
    deploys: dict[tuple[str, str], remote.Command]
    configure: dict[str, remote.Command]
    shutdown: dict[str, remote.Command]
    barrier: pulumi.Resource
    users: dict[str, remote.Command]
    # command name -> {instance, create, delete, app}: the events each command's create and delete run (an output)
    commands: dict[str, dict[str, str | None]]


def deploy_batches(loaded: Loaded, app: str) -> list[list[str]]:
    """Pure: the rolling-deploy batches of an app, layer by layer (app.layers order). In a layer the time- and
    load-based instances come first, then the others, each by name: capacity first. When they were stopped, the up has
    woken them, and they serve the new revision before a 24/7 instance is drained (otherwise the only serving
    instances could be drained while the woken ones still boot)."""
    cfg = loaded.config
    seen: set[str] = set()
    batches: list[list[str]] = []
    for layer in cfg.apps[app].layers:
        members = sorted((n for n in cfg.layer_instances(layer) if n not in seen),
                         key=lambda n: (gate_payload(loaded.config, n) is None, n))
        seen.update(members)
        if not members:
            continue
        size = cfg.layers[layer].rolling.size(len(members))
        batches.extend(members[i:i + size] for i in range(0, len(members), size))
    return batches


class _Builder:
    def __init__(self, loaded: Loaded, instances: dict[str, Instance], dbs: dict[str, pulumi.Output[DatabaseFacts]],
                 stack: pulumi.Resource, waker: Wake | None = None, bastion: str | None = None) -> None:
        self.loaded = loaded
        self.waker = waker
        self.bastion = bastion
        self.commands: dict[str, dict[str, str | None]] = {}
        # time- and load-based instances: what their settle invocation needs besides the id (a schedule's hours)
        self.gated = {n: p for n in instances if (p := gate_payload(loaded.config, n)) is not None}
        self.triggers: dict[str, pulumi.Output[str]] = {}
        self._all: dict[tuple[str, ...], pulumi.Output[list[Any]]] = {}
        self.instances = instances
        self.dbs = dbs
        self.stack = stack
        # the stack's VPC (stackkit.components.stack.Stack.network), for node.json's opsworks.stack.vpc_id
        network = getattr(stack, "network", None)
        vpc_id = network.vpc_id if network is not None else None
        self.facts = {n: pulumi.Output.all(i.ec2.id, i.ec2.private_ip, i.ec2.public_ip, i.elastic_ip,
                                           i.ec2.availability_zone, i.ec2.subnet_id, vpc_id, i.ec2.private_dns,
                                           i.ec2.public_dns).apply(
            lambda a: InstanceFacts(id=a[0], private_ip=a[1], public_ip=a[2], elastic_ip=a[3], availability_zone=a[4],
                                    subnet_id=a[5], vpc_id=a[6], private_dns=a[7], public_dns=a[8]))
            for n, i in instances.items()}
        cfg = loaded.config
        self.private_key = pulumi.Output.secret(cfg.stack.ssh_private_key.get_secret_value())

    def connection(self, name: str) -> remote.ConnectionArgs:
        return remote.ConnectionArgs(host=self.instances[name].address, user=self.loaded.config.stack.user,
                                     private_key=self.private_key, dial_error_limit=60, per_dial_timeout=10,
                                     host_key=self.instances[name].host_key, proxy=self.proxy(name))

    def proxy(self, name: str) -> remote.ProxyConnectionArgs | None:
        """A private instance (no public IP) is reached through the stack's bastion (stackkit.config.placement)."""
        jump = self.bastion
        if jump is None or is_public(self.loaded.config, self.loaded.specs, name):
            return None
        return remote.ProxyConnectionArgs(host=self.instances[jump].address, user=self.loaded.config.stack.user,
                                          private_key=self.private_key, dial_error_limit=60, per_dial_timeout=10,
                                          host_key=self.instances[jump].host_key)

    @staticmethod
    def _guarded(text: str, views: list[dict[str, Any]]) -> Any:
        """The bundle as a command input: a secret Output when one of the views it was rendered from holds a secret
        field (decided from the data, not by looking for secret text in the bundle)."""
        return pulumi.Output.secret(text) if any(carries_secret(v) for v in views) else text

    def _joined(self, members: list[str], make: Any) -> pulumi.Output[Any]:
        """make(facts of `members`, facts of every database), once all of them are known."""
        dbs = sorted(self.dbs)

        def call(a: list[Any]) -> Any:
            return make(dict(zip(members, a[:len(members)], strict=True)), dict(zip(dbs, a[len(members):], strict=True)))
        key = tuple(members)
        if key not in self._all:     # an instance's setup, deploys and shutdown join the same facts: once
            self._all[key] = pulumi.Output.all(*[self.facts[m] for m in members], *[self.dbs[d] for d in dbs])
        return self._all[key].apply(call)

    def _stdin(self, name: str, members: list[str], views_of: Any, **kw: Any) -> pulumi.Output[str]:
        """The bundle of `name` for the views views_of(facts, dbs) returns (event -> view), secret if they hold one."""
        def make(f: dict, d: dict) -> Any:
            views = views_of(f, d)
            return self._guarded(command_stdin(self.loaded, name, views, **kw), list(views.values()))
        return self._joined(members, make)

    def command(self, name: str, suffix: str, *, create: str, delete: str | None, stdin: pulumi.Input[str],
                triggers: list[Any], depends_on: list[pulumi.Resource], deleted_with: bool = True,
                delete_before_replace: bool = False, app: str | None = None) -> remote.Command:
        """One lifecycle command: `create` and `delete` are events; its update runs `create`'s job if it changed."""
        inst = self.instances[name]
        self.commands[f"{name}-{suffix}"] = {"instance": name, "create": create, "delete": delete, "app": app}
        return remote.Command(
            f"{name}-{suffix}", connection=self.connection(name), create=RUN_JOB.format(event=create),
            update=UPDATE_JOB.format(event=create), delete=RUN_JOB.format(event=delete) if delete else None,
            stdin=stdin, triggers=triggers, add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(
                parent=inst, depends_on=depends_on, additional_secret_outputs=SECRET_OUTPUTS,
                deleted_with=inst.ec2 if deleted_with else None, delete_before_replace=delete_before_replace))

    def library_path(self, name: str) -> str:
        """The instance's library zip (stackkit.lifecycle.bundle.library): what each of its commands may read."""
        loaded, cfg = self.loaded, self.loaded.config
        manifests = [files(loaded, name, ["setup"], None), files(loaded, name, ["configure"], None),
                     files(loaded, name, ["shutdown"], None)]
        manifests += [files(loaded, name, ["deploy", "undeploy"], app) for app in sorted(cfg.apps)
                      if event_layers(loaded, name, app)]
        return str(library(manifests))

    def library(self, name: str, path: str, depends_on: list[pulumi.Resource]) -> remote.CopyToRemote:
        """<name>-library: the instance's library, uploaded before its commands run. Its source is content-addressed:
        a changed file uploads it again (an update); a new instance (its id, a trigger) gets it anew. Nothing runs
        on delete."""
        inst = self.instances[name]
        return remote.CopyToRemote(
            f"{name}-library", connection=self.connection(name), source=pulumi.FileAsset(path),
            remote_path=UPLOAD, triggers=[inst.ec2.id],
            opts=pulumi.ResourceOptions(parent=inst, depends_on=depends_on, deleted_with=inst.ec2))

    def build(self) -> Lifecycle:
        loaded, cfg = self.loaded, self.loaded.config
        # every command's input first: a time- or load-based instance's wake and settle are triggered by all of them
        setup_in: dict[str, pulumi.Output[str]] = {}
        for name, inst in self.instances.items():
            def setup_views(f: dict, d: dict, name: str = name) -> dict[str, Any]:
                return {"setup": view(loaded, name, "setup", f, d)}
            setup_in[name] = self._stdin(name, [name], setup_views, volumes=inst.devices)
        batches = {app: deploy_batches(loaded, app) for app in sorted(cfg.apps)}
        deploy_in: dict[tuple[str, str], pulumi.Output[str]] = {}
        for app, app_batches in batches.items():
            for name in (n for batch in app_batches for n in batch):
                def deploy_views(f: dict, d: dict, name: str = name, app: str = app) -> dict[str, Any]:
                    return {e: view(loaded, name, e, f, d, app=app) for e in ("deploy", "undeploy")}
                deploy_in[(name, app)] = self._stdin(name, [name], deploy_views, app=app)
        configure_in: dict[str, pulumi.Output[tuple[Any, str]]] = {}
        shutdown_in: dict[str, pulumi.Output[str]] = {}
        for name in self.instances:
            members = watched_instances(loaded, name)
            if name not in members:
                members = sorted([*members, name])

            def make_configure(f: dict, d: dict, name: str = name) -> tuple[Any, str]:
                """The bundle and the fingerprint of the watched state (secrets redacted), from one view."""
                v = view(loaded, name, "configure", f, d)
                return self._guarded(command_stdin(loaded, name, {"configure": v}), [v]), fingerprint(redacted(v))
            configure_in[name] = self._joined(members, make_configure)

            def shutdown_views(f: dict, d: dict, name: str = name) -> dict[str, Any]:
                return {"shutdown": view(loaded, name, "shutdown", f, d)}
            shutdown_in[name] = self._stdin(name, [name], shutdown_views)
        users_in = {name: users_stdin(name, users_view(loaded, name)) for name in self.instances}
        paths = {name: self.library_path(name) for name in self.instances}
        wake = self._wakes({n: [Path(paths[n]).name, setup_in[n], *[v for (i, _), v in sorted(deploy_in.items()) if i == n],
                                configure_in[n], shutdown_in[n], users_in.get(n), cfg.instances[n].setup_nonce,
                                cfg.stack.configure_nonce] for n in self.instances})

        def after_wake(name: str, deps: list[pulumi.Resource]) -> list[pulumi.Resource]:
            return [*deps, wake[name]] if name in wake else deps

        setup: dict[str, remote.Command] = {}
        libraries: dict[str, remote.CopyToRemote] = {}
        for name, inst in self.instances.items():
            deps: list[pulumi.Resource] = [*inst.attachments]
            if inst.eip_association is not None:
                deps.append(inst.eip_association)
            libraries[name] = self.library(name, paths[name], after_wake(name, deps))
            setup[name] = self.command(
                name, "setup", create="setup", delete=None, stdin=setup_in[name],
                triggers=[inst.ec2.id, cfg.instances[name].setup_nonce], depends_on=after_wake(name, [libraries[name]]))

        deploys: dict[tuple[str, str], remote.Command] = {}
        last_batches: list[pulumi.Resource] = []
        for app, app_batches in batches.items():
            previous: list[pulumi.Resource] = []
            for k, batch in enumerate(app_batches):
                if k >= 1:
                    # one barrier per batch after the first: batch k waits for batch k-1 through it (edges linear in
                    # the batch size, not its square: the SDK checks every declared edge for cycles)
                    previous = [pulumi.Stash(f"{cfg.stack.name}-{app}-batch-{k}", input=len(previous),
                                             opts=pulumi.ResourceOptions(parent=self.stack, depends_on=previous))]
                current: list[pulumi.Resource] = []
                for name in batch:
                    cmd = self.command(
                        name, f"deploy-{app}", create="deploy", delete="undeploy", app=app,
                        stdin=deploy_in[(name, app)], triggers=[self.instances[name].ec2.id],
                        depends_on=[setup[name], libraries[name], *previous])
                    deploys[(name, app)] = cmd
                    current.append(cmd)
                previous = current
            last_batches += previous

        # after every setup and every deploy: each app's last batch waits on all of its earlier batches, so the
        # barrier names only those (the SDK walks the upstream of every declared edge to check for cycles, and a
        # deploy's upstream holds every earlier batch: one edge per deploy made this quadratic in the stack)
        barrier = pulumi.Stash(f"{cfg.stack.name}-members-ready", input=sorted(self.instances),
                               opts=pulumi.ResourceOptions(parent=self.stack,
                                                           depends_on=[*setup.values(), *last_batches]))

        configure: dict[str, remote.Command] = {}
        shutdown: dict[str, remote.Command] = {}
        for name, inst in self.instances.items():
            joined = configure_in[name]
            configure[name] = self.command(
                name, "configure", create="configure", delete=None,
                stdin=joined.apply(lambda j: j[0]),
                triggers=[joined.apply(lambda j: j[1]), cfg.stack.configure_nonce],
                depends_on=after_wake(name, [barrier, libraries[name]]))
            shutdown[name] = self.command(
                name, "shutdown", create="prepare", delete="shutdown",
                stdin=shutdown_in[name], triggers=[inst.ec2.id, *[a.id for a in inst.attachments]],
                depends_on=[configure[name], libraries[name], *inst.attachments], deleted_with=False)
        users: dict[str, remote.Command] = {}
        for name, stdin in users_in.items():
            users[name] = self.command(
                name, "users", create="users", delete="lock_users",
                stdin=stdin, triggers=[self.instances[name].ec2.id], depends_on=[setup[name], libraries[name]])
        for name, w in wake.items():
            # after its own scripts and after every setup and deploy of the stack (the barrier): a woken instance
            # keeps serving until the last rolling batch is done (settled earlier, the 24/7 instances' deploys would
            # drain the only capacity left: seen on machines as a request timing out)
            self._settle(name, w, [barrier, setup[name], configure[name], shutdown[name],
                                   *[c for (i, _), c in deploys.items() if i == name],
                                   *([users[name]] if name in users else [])])
        return Lifecycle(setup=setup, deploys=deploys, configure=configure, shutdown=shutdown, barrier=barrier,
                         users=users, commands=dict(sorted(self.commands.items())))

    def _wakes(self, inputs: dict[str, list[Any]]) -> dict[str, pulumi.Resource]:
        """<i>-wake for each time- or load-based instance: before its scripts, re-invoked when one of their inputs
        changes (stackkit.components.wake)."""
        if self.waker is None:
            return {}
        self.triggers = {n: pulumi.Output.all(*inputs[n]).apply(digest) for n in self.gated}
        return {n: self.waker.invocation(f"{n}-wake", self.instances[n].ec2.id.apply(lambda i: {"wake": i}),
                                         self.triggers[n], parent=self.instances[n], depends_on=[])
                for n in sorted(self.gated)}

    def _settle(self, name: str, wake: pulumi.Resource, after: list[pulumi.Resource]) -> None:
        assert self.waker is not None
        extra = self.gated[name]
        self.waker.invocation(f"{name}-settle", self.instances[name].ec2.id.apply(lambda i: {"settle": i, **extra}),
                              self.triggers[name], parent=self.instances[name], depends_on=[wake, *after])


def add_lifecycle(loaded: Loaded, instances: dict[str, Instance], dbs: dict[str, pulumi.Output[DatabaseFacts]],
                  stack: pulumi.Resource, waker: Wake | None = None, bastion: str | None = None) -> Lifecycle:
    return _Builder(loaded, instances, dbs, stack, waker, bastion).build()
