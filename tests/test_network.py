"""The network under Pulumi's mocks: which instances are public, the private subnets' NAT egress, SSH to private
instances through the bastion, and the load balancer as the only way in to a load-balanced layer (HTTPS, redirect)."""

from __future__ import annotations

from typing import Any

import pytest

from stackkit.config.stackfile import StackFile
from stackkit.plan.evaluate import Plan, Resource, evaluate

EC2 = "aws:ec2/instance:Instance"
NAT = "aws:ec2/natGateway:NatGateway"
SUBNET = "aws:ec2/subnet:Subnet"
LISTENER = "aws:lb/listener:Listener"
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
WORLD = "0.0.0.0/0"

# (stack, change, {instance: tier of its subnet}); a tier is public or private
PLACEMENT: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("production", {}, {"web1": "public", "web2": "public", "db1": "private",
                        **{f"app{i}": "private" for i in range(1, 6)}}),
    ("staging", {}, {"stage1": "public"}),
    ("relstorage", {}, {"web1": "public", "web2": "public", "app1": "private", "app2": "private", "cache1": "private"}),
    # an Elastic IP makes an instance public, whatever its layers
    ("production", {"resources.elastic_ips": {"ops": {}}, "instances.db1.elastic_ip": "ops"},
     {"web1": "public", "web2": "public", "db1": "public", **{f"app{i}": "private" for i in range(1, 6)}}),
    ("production", {"layers.plone.elastic_ips": True},
     {"web1": "public", "web2": "public", "db1": "private", **{f"app{i}": "public" for i in range(1, 6)}}),
]


def changed(sf: StackFile, change: dict[str, Any]) -> Plan:
    return evaluate(sf.with_change(change))


def _plan(plans: dict[str, Plan], stack_files: dict[str, StackFile], stack: str, change: dict[str, Any]) -> Plan:
    return changed(stack_files[stack], change) if change else plans[stack]


def _tiers(plan: Plan) -> dict[str, str]:
    """subnet id -> its tier tag (public | private)."""
    return {r.id: r.inputs["tags"]["tier"] for r in plan.of_type(SUBNET)}


def _ec2(plan: Plan) -> dict[str, Resource]:
    return {r.name: r for r in plan.of_type(EC2)}


@pytest.mark.parametrize("stack,change,expected", PLACEMENT, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(PLACEMENT)])
def test_only_internet_facing_or_elastic_ip_instances_are_public(plans: dict[str, Plan], stack_files: dict[str, StackFile],
                                                                 stack: str, change: dict[str, Any],
                                                                 expected: dict[str, str]) -> None:
    plan = _plan(plans, stack_files, stack, change)
    tiers = _tiers(plan)
    got = {n: tiers[r.inputs["subnetId"]] for n, r in _ec2(plan).items()}
    assert got == expected
    for name, r in _ec2(plan).items():
        assert r.inputs["associatePublicIpAddress"] is (expected[name] == "public"), name


# (stack, change, NAT gateways, in the public subnets of these AZ indexes)
NATS = [
    ("production", {}, [0]),
    ("production", {"stack.network.nat": "per_az"}, [0, 1]),
    ("staging", {}, []),                                          # every instance is public: no NAT gateway to pay for
    ("relstorage", {}, [0]),
]


@pytest.mark.parametrize("stack,change,azs", NATS, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(NATS)])
def test_private_subnets_reach_the_internet_through_nat(plans: dict[str, Plan], stack_files: dict[str, StackFile],
                                                        stack: str, change: dict[str, Any], azs: list[int]) -> None:
    plan = _plan(plans, stack_files, stack, change)
    subnets = {r.id: r for r in plan.of_type(SUBNET)}
    nats = plan.of_type(NAT)
    assert sorted(subnets[n.inputs["subnetId"]].name for n in nats) == [f"{plan_name(plan)}-public-{i}" for i in azs]
    eips = {r.state["allocationId"] for r in plan.of_type("aws:ec2/eip:Eip")}
    assert all(n.inputs["allocationId"] in eips and n.inputs["connectivityType"] == "public" for n in nats)
    # every private subnet has its own route table; its default route goes to its AZ's NAT (or AZ 0's with single)
    tables = {r.id: r for r in plan.of_type("aws:ec2/routeTable:RouteTable")}
    nat_ids = {n.id: subnets[n.inputs["subnetId"]].inputs["availabilityZone"] for n in nats}
    for a in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation"):
        subnet = subnets[a.inputs["subnetId"]]
        routes = tables[a.inputs["routeTableId"]].inputs.get("routes", [])
        if subnet.inputs["tags"]["tier"] == "public":
            assert [r.get("gatewayId", "").startswith("internet") for r in routes] == [True]
            continue
        if not nats:
            assert routes == []
            continue
        assert [r["cidrBlock"] for r in routes] == [WORLD]
        nat_az = nat_ids[routes[0]["natGatewayId"]]
        assert nat_az == (subnet.inputs["availabilityZone"] if len(azs) > 1 else f"{plan_region(plan)}a")


def plan_name(plan: Plan) -> str:
    return next(r.name for r in plan.resources if r.type == "stackkit:index:Stack")


def plan_region(plan: Plan) -> str:
    return next(r.inputs["availabilityZone"] for r in plan.of_type(SUBNET))[:-1]


def test_a_private_instance_is_created_after_its_subnets_route_out(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    assoc = {r.urn: r.name for r in plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}
    for name, r in _ec2(plan).items():
        waits = sorted(assoc[u] for u in r.options["dependsOn"] if u in assoc)
        private = r.inputs["associatePublicIpAddress"] is False
        az = {"app1": 0, "app2": 1, "app3": 0, "app4": 1, "app5": 0, "db1": 0}.get(name)
        assert waits == ([f"plone-production-private-{az}"] if private else []), name


def _addresses(plan: Plan) -> dict[str, str]:
    """instance -> where SSH reaches it: its Elastic IP, else its public IP, else (private) its private IP."""
    eips = {r.name.removesuffix("-eip"): r.state["publicIp"] for r in plan.of_type("aws:ec2/eip:Eip")}
    return {n: eips.get(n) or r.state["publicIp"] or r.state["privateIp"] for n, r in _ec2(plan).items()}


# (stack, change, bastion): every private instance's commands connect through the bastion, public ones directly
BASTIONS = [
    ("production", {}, "web1"),
    ("production", {"stack.network.bastion": "web2"}, "web2"),
    ("relstorage", {}, "web1"),
    ("staging", {}, None),
]


@pytest.mark.parametrize("stack,change,jump", BASTIONS, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(BASTIONS)])
def test_ssh_to_private_instances_goes_through_the_bastion(plans: dict[str, Plan], stack_files: dict[str, StackFile],
                                                           stack: str, change: dict[str, Any], jump: str | None) -> None:
    plan = _plan(plans, stack_files, stack, change)
    ec2, address = _ec2(plan), _addresses(plan)
    commands = plan.of_type("command:remote:Command")
    assert commands
    for c in commands:
        instance = next(n for n in ec2 if c.name.startswith(n + "-"))
        conn = c.secret_inputs["connection"]
        assert conn["host"] == address[instance], c.name
        if ec2[instance].inputs["associatePublicIpAddress"]:
            assert "proxy" not in conn, c.name
        else:
            assert conn["host"] == ec2[instance].state["privateIp"]
            proxy = conn["proxy"]
            assert proxy["host"] == address[jump]           # type: ignore[index]
            assert proxy["user"] == conn["user"] and proxy["privateKey"] == conn["privateKey"]
    assert c.inputs["connection"] == "[secret]"             # the proxy's key stays inside the secret connection


def _listeners(plan: Plan) -> dict[int, Resource]:
    return {int(r.inputs["port"]): r for r in plan.of_type(LISTENER)}


def test_with_a_certificate_the_balancer_serves_https_and_redirects_http(stack_files: dict[str, StackFile]) -> None:
    plan = changed(stack_files["production"], {"layers.frontend.load_balancer.certificate_arn": CERT})
    listeners = _listeners(plan)
    assert sorted(listeners) == [80, 443]
    https = listeners[443].inputs
    assert (https["protocol"], https["certificateArn"], https["sslPolicy"]) == (
        "HTTPS", CERT, "ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert [a["type"] for a in https["defaultActions"]] == ["forward"]
    http = listeners[80].inputs
    assert http["protocol"] == "HTTP"
    assert http["defaultActions"] == [{"type": "redirect",
                                       "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
    lb_sg = next(r for r in plan.of_type("aws:ec2/securityGroup:SecurityGroup") if r.name == "frontend-lb-sg")
    assert sorted((int(i["fromPort"]), tuple(i["cidrBlocks"])) for i in lb_sg.inputs["ingress"]) == [
        (80, (WORLD,)), (443, (WORLD,))]


def test_without_a_certificate_the_balancer_forwards_http(plans: dict[str, Plan]) -> None:
    listeners = _listeners(plans["production"])
    assert sorted(listeners) == [80]
    assert [a["type"] for a in listeners[80].inputs["defaultActions"]] == ["forward"]


@pytest.mark.parametrize("stack", ["production", "relstorage"])
def test_a_load_balanced_layer_takes_internet_traffic_only_from_its_balancer(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    groups = {r.id: r.name for r in plan.of_type("aws:ec2/securityGroup:SecurityGroup")}
    rules = [r.inputs for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if groups[r.inputs["securityGroupId"]] == "frontend-sg"]
    assert sorted((int(r["fromPort"]), groups.get(r.get("referencedSecurityGroupId", ""), r.get("cidrIpv4")))
                  for r in rules) == [(80, "frontend-lb-sg"), (443, "frontend-lb-sg")]


def test_an_existing_vpc_uses_its_private_subnets_and_its_own_nat(stack_files: dict[str, StackFile]) -> None:
    net = {"vpc_id": "vpc-0abc123", "public_subnet_ids": ["subnet-pub0", "subnet-pub1"],
           "private_subnet_ids": ["subnet-priv0", "subnet-priv1"]}
    plan = changed(stack_files["production"], {"stack.network": net})
    assert plan.of_type(NAT) == [] and plan.of_type(SUBNET) == []
    subnets = {n: r.inputs["subnetId"] for n, r in _ec2(plan).items()}
    assert subnets == {"web1": "subnet-pub0", "web2": "subnet-pub1", "db1": "subnet-priv0",
                       "app1": "subnet-priv0", "app2": "subnet-priv1", "app3": "subnet-priv0", "app4": "subnet-priv1",
                       "app5": "subnet-priv0"}


@pytest.mark.parametrize("stack,change,jump", BASTIONS, ids=[f"{s}-{i}" for i, (s, _, _) in enumerate(BASTIONS)])
def test_the_ssh_group_lets_the_bastion_in(plans: dict[str, Plan], stack_files: dict[str, StackFile], stack: str,
                                           change: dict[str, Any], jump: str | None) -> None:
    """Port 22 of every instance: the admin CIDRs, and the bastion's group (carried by the bastion only)."""
    plan = _plan(plans, stack_files, stack, change)
    groups = {r.name: r for r in plan.of_type("aws:ec2/securityGroup:SecurityGroup")}
    name = plan_name(plan)
    sources = [(int(i["fromPort"]), i.get("cidrBlocks", []), i.get("securityGroups", []))
               for i in groups[f"{name}-ssh"].inputs["ingress"]]
    admin = [str(c) for c in stack_files[stack].config["stackkit:stack"]["admin_cidrs"]]
    if jump is None:
        assert f"{name}-bastion" not in groups and sources == [(22, admin, [])]
        return
    hop = groups[f"{name}-bastion"].id
    assert sources == [(22, admin, []), (22, [], [hop])]
    assert {n for n, r in _ec2(plan).items() if hop in r.inputs["vpcSecurityGroupIds"]} == {jump}
