"""stackkit:index:Layer — a role in the stack: its security group, derived from the layer's ports, and an optional
application load balancer in front of its instances (listeners, target group, health check, one attachment each).

With a load balancer, the layer's `from: internet` ports accept only the balancer's security group (the balancer's
own group is the one open to the world); with `certificate_arn` the balancer listens for HTTPS on 443 (TLS 1.2/1.3
policy) and its HTTP listener redirects there."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stackkit.config.layerspec import FromLayers, LayerSpec, Port, ec2_text
from stackkit.config.models import LayerSettings

WORLD = "0.0.0.0/0"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"   # TLS 1.3 and 1.2 only, forward-secret ciphers (ELB docs)


@dataclass(frozen=True)
class IngressRule:
    """One ingress rule, as data: a port (range) and where it may come from (a CIDR, another layer's group or the
    layer's own load balancer's group)."""

    port: int
    to_port: int
    protocol: str
    cidr: str | None = None
    layer: str | None = None
    load_balancer: bool = False
    description: str = ""

    @property
    def name(self) -> str:
        cidr = (self.cidr or "").replace("/", "_").replace(".", "-")
        src = "lb" if self.load_balancer else self.layer or cidr
        ports = f"{self.port}" if self.port == self.to_port else f"{self.port}-{self.to_port}"
        return f"{ports}-{self.protocol}-from-{src}"


def ingress_rules(spec: LayerSpec, stack_layers: list[str], admin_cidrs: list[str],
                  load_balanced: bool = False) -> list[IngressRule]:
    """Pure: the rules a layer's security group gets. `local` ports get none; layers absent from the stack are skipped.
    `load_balanced`: `internet` ports come from the layer's load balancer only, as does the balancer's target port."""
    rules: list[IngressRule] = []
    for p in spec.ports:
        def rule(cidr: str | None = None, layer: str | None = None, lb: bool = False, p: Port = p) -> IngressRule:
            return IngressRule(port=p.port, to_port=p.last, protocol=p.protocol, cidr=cidr, layer=layer,
                               load_balancer=lb, description=p.description)
        src = p.from_
        if src == "internet":
            rules.append(rule(lb=True) if load_balanced else rule(cidr=WORLD))
        elif src == "admin":
            rules.extend(rule(cidr=c) for c in admin_cidrs)
        elif src == "stack":
            rules.extend(rule(layer=la) for la in stack_layers)
        elif isinstance(src, FromLayers):
            rules.extend(rule(layer=la) for la in src.layers if la in stack_layers)
    if load_balanced and spec.load_balancer is not None:
        target = spec.load_balancer.port
        if not any(r.load_balancer and r.port <= target <= r.to_port for r in rules):
            rules.append(IngressRule(port=target, to_port=target, protocol="tcp", load_balancer=True,
                                     description="from the load balancer"))
    return rules


@dataclass
class LayerArgs:
    spec: LayerSpec
    settings: LayerSettings
    vpc_id: pulumi.Input[str]
    public_subnet_ids: list[pulumi.Input[str]]
    tags: dict[str, str] = field(default_factory=dict)


class Layer(pulumi.ComponentResource):
    security_group: aws.ec2.SecurityGroup
    target_group: aws.lb.TargetGroup | None = None
    load_balancer: aws.lb.LoadBalancer | None = None
    lb_security_group: aws.ec2.SecurityGroup | None = None

    def __init__(self, name: str, args: LayerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("stackkit:index:Layer", name, None, opts)
        self._name = name
        self._args = args
        self._child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "stackkit:layer": name}
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id, description=ec2_text(f"stackkit layer {name}: {args.spec.description}"),
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=[WORLD],
                                                    description="outbound: packages, app sources")],
            tags={**tags, "Name": f"{name}-sg"}, opts=self._child)
        if args.settings.load_balancer is not None:
            self._create_load_balancer(tags)

    def _create_load_balancer(self, tags: dict[str, str]) -> None:
        name, lb, spec = self._name, self._args.settings.load_balancer, self._args.spec.load_balancer
        assert lb is not None and spec is not None
        self.lb_security_group = aws.ec2.SecurityGroup(
            f"{name}-lb-sg", vpc_id=self._args.vpc_id, description=f"stackkit load balancer of layer {name}",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=p, to_port=p, cidr_blocks=[WORLD],
                                                      description="clients")
                     for p in sorted({lb.listener_port} | ({443} if lb.certificate_arn else set()))],
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=spec.port, to_port=spec.port,
                                                    security_groups=[self.security_group.id],
                                                    description=f"to the instances of layer {name}")],
            tags={**tags, "Name": f"{name}-lb-sg"}, opts=self._child)
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb", load_balancer_type="application", internal=False,
            security_groups=[self.lb_security_group.id], subnets=self._args.public_subnet_ids,
            drop_invalid_header_fields=True, tags={**tags, "Name": f"{name}-alb"}, opts=self._child)
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg", port=spec.port, protocol="HTTP", target_type="instance", vpc_id=self._args.vpc_id,
            deregistration_delay=lb.deregistration_delay,
            health_check=aws.lb.TargetGroupHealthCheckArgs(path=lb.health_check_path or spec.health_check_path,
                                                           port=str(spec.port), matcher="200-399", interval=10,
                                                           healthy_threshold=2, unhealthy_threshold=3),
            tags={**tags, "Name": f"{name}-tg"}, opts=self._child)
        forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)]
        http = forward
        if lb.certificate_arn:
            aws.lb.Listener(f"{name}-https", load_balancer_arn=self.load_balancer.arn, port=443, protocol="HTTPS",
                            ssl_policy=TLS_POLICY, certificate_arn=lb.certificate_arn,
                            default_actions=forward, opts=self._child)
            http = [aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                protocol="HTTPS", port="443", status_code="HTTP_301"))]
        aws.lb.Listener(f"{name}-http-{lb.listener_port}", load_balancer_arn=self.load_balancer.arn,
                        port=lb.listener_port, protocol="HTTP", default_actions=http, opts=self._child)

    def add_ingress(self, rules: list[IngressRule], groups: dict[str, pulumi.Output[str]]) -> None:
        for r in rules:
            source = groups[r.layer] if r.layer else self._lb_group() if r.load_balancer else None
            aws.vpc.SecurityGroupIngressRule(
                f"{self._name}-in-{r.name}", security_group_id=self.security_group.id, ip_protocol=r.protocol,
                from_port=r.port, to_port=r.to_port, cidr_ipv4=r.cidr, referenced_security_group_id=source,
                description=(r.description or f"port {r.port}")[:255], opts=self._child)

    def _lb_group(self) -> pulumi.Output[str]:
        if self.lb_security_group is None:
            raise AssertionError(f"layer {self._name}: a rule from the load balancer, but the layer has none")
        return self.lb_security_group.id

    def attach(self, instance: str, instance_id: pulumi.Input[str], after: list[pulumi.Resource]) -> None:
        """Register an instance with the layer's target group once its lifecycle is through (`after`)."""
        if self.target_group is None:
            return
        aws.lb.TargetGroupAttachment(f"{self._name}-tg-{instance}", target_group_arn=self.target_group.arn,
                                     target_id=instance_id,
                                     opts=pulumi.ResourceOptions(parent=self, depends_on=after))

    def finish(self) -> None:
        outputs: dict[str, pulumi.Input[str]] = {"security_group_id": self.security_group.id}
        if self.load_balancer is not None:
            outputs["load_balancer_dns"] = self.load_balancer.dns_name
        self.register_outputs(outputs)
