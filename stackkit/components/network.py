"""The stack's network: a new VPC with public and private subnets across the region's first N AZs (looked up at run
time), or an existing VPC's subnets. Children of the Stack component.

Public subnets route to the internet gateway; private subnets (instances without a public IP, databases) reach the
internet through NAT gateways in the public subnets (`stack.network.nat`): `single` (one NAT gateway and Elastic IP in
public subnet 0, every AZ's private subnet routes to it), `per_az` (one per AZ: an AZ outage leaves the others their
egress, at a NAT gateway's hourly price per AZ), `none` (no egress: refused at load when an instance is private).
No NAT gateway is created while every instance is public. Each private subnet has its own route table, so moving
between single and per_az only changes routes; a private instance waits for its subnet's route (Network.egress).
An existing VPC (network.vpc_id) brings its own subnets and NAT."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network

import pulumi
import pulumi_aws as aws

from stackkit.config.models import Network as NetworkConfig


@dataclass
class Network:
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    azs: list[pulumi.Output[str]]
    egress: list[pulumi.Resource] = field(default_factory=list)   # what a private subnet's egress waits for (NAT routes)


def subnet_cidrs(cidr: IPv4Network, az_count: int) -> tuple[list[str], list[str]]:
    """Public subnets take the first /(n+4) blocks, private ones the blocks after them: /16 -> /20s."""
    blocks = list(cidr.subnets(prefixlen_diff=4))
    return [str(b) for b in blocks[:az_count]], [str(b) for b in blocks[8:8 + az_count]]


def create_network(name: str, cfg: NetworkConfig, tags: dict[str, str], parent: pulumi.Resource,
                   nat: bool = True) -> Network:
    """`nat`: whether any instance is private (a NAT gateway is billed by the hour: none unless one is needed)."""
    opts = pulumi.ResourceOptions(parent=parent)
    zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=parent))
    azs = [zones.names[i] for i in range(cfg.az_count)]
    if cfg.vpc_id:
        return Network(vpc_id=pulumi.Output.from_input(cfg.vpc_id),
                       public_subnet_ids=[pulumi.Output.from_input(s) for s in cfg.public_subnet_ids],
                       private_subnet_ids=[pulumi.Output.from_input(s) for s in cfg.private_subnet_ids], azs=azs)

    vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=str(cfg.vpc_cidr), enable_dns_hostnames=True, enable_dns_support=True,
                      tags={**tags, "Name": f"{name}-vpc"}, opts=opts)
    igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"}, opts=opts)
    public_rt = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id,
                                   routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
                                   tags={**tags, "Name": f"{name}-public"}, opts=opts)
    public_cidrs, private_cidrs = subnet_cidrs(cfg.vpc_cidr, cfg.az_count)
    public, private = [], []
    for i, az in enumerate(azs):
        pub = aws.ec2.Subnet(f"{name}-public-{i}", vpc_id=vpc.id, cidr_block=public_cidrs[i], availability_zone=az,
                             map_public_ip_on_launch=True, tags={**tags, "Name": f"{name}-public-{i}", "tier": "public"},
                             opts=opts)
        aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=pub.id, route_table_id=public_rt.id, opts=opts)
        priv = aws.ec2.Subnet(f"{name}-private-{i}", vpc_id=vpc.id, cidr_block=private_cidrs[i], availability_zone=az,
                              map_public_ip_on_launch=False,
                              tags={**tags, "Name": f"{name}-private-{i}", "tier": "private"}, opts=opts)
        public.append(pub.id)
        private.append(priv.id)
    nats = _create_nat(name, cfg, public, tags, pulumi.ResourceOptions(parent=parent, depends_on=[igw])) if nat else []
    egress: list[pulumi.Resource] = []
    for i, subnet in enumerate(private):
        routes = [aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nats[i].id)] if nats else []
        rt = aws.ec2.RouteTable(f"{name}-private-{i}", vpc_id=vpc.id, routes=routes,
                                tags={**tags, "Name": f"{name}-private-{i}"}, opts=opts)
        egress.append(aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=subnet, route_table_id=rt.id,
                                                    opts=opts))
    return Network(vpc_id=vpc.id, public_subnet_ids=public, private_subnet_ids=private, azs=azs, egress=egress)


def _create_nat(name: str, cfg: NetworkConfig, public: list[pulumi.Output[str]], tags: dict[str, str],
                opts: pulumi.ResourceOptions) -> list[aws.ec2.NatGateway]:
    """The NAT gateway each AZ's private subnet routes to (index = AZ): [] for none, AZ 0's for every AZ with single."""
    if cfg.nat == "none":
        return []
    own = range(cfg.az_count) if cfg.nat == "per_az" else range(1)
    gateways = []
    for i in own:
        eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={**tags, "Name": f"{name}-nat-{i}"}, opts=opts)
        gateways.append(aws.ec2.NatGateway(f"{name}-nat-{i}", allocation_id=eip.allocation_id, subnet_id=public[i],
                                           connectivity_type="public", tags={**tags, "Name": f"{name}-nat-{i}"},
                                           opts=opts))
    return [gateways[i if cfg.nat == "per_az" else 0] for i in range(cfg.az_count)]
