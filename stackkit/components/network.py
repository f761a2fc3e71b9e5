"""The stack's network: a new VPC with public and private subnets across the region's first N AZs (looked up at run
time), or an existing VPC's subnets. Children of the Stack component."""

from __future__ import annotations

from dataclasses import dataclass
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


def subnet_cidrs(cidr: IPv4Network, az_count: int) -> tuple[list[str], list[str]]:
    """Public subnets take the first /(n+4) blocks, private ones the blocks after them: /16 -> /20s."""
    blocks = list(cidr.subnets(prefixlen_diff=4))
    return [str(b) for b in blocks[:az_count]], [str(b) for b in blocks[8:8 + az_count]]


def create_network(name: str, cfg: NetworkConfig, tags: dict[str, str], parent: pulumi.Resource) -> Network:
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
    return Network(vpc_id=vpc.id, public_subnet_ids=public, private_subnet_ids=private, azs=azs)
