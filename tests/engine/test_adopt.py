"""Adopting what an OpsWorks stack runs, under Pulumi's real engine (issue 23): the project `import opsworks --adopt`
wrote from AWS's own describe-* samples (tests/opsworks_import/expected/aws-describe-adopt) is previewed against a
local cloud that already holds those EC2 instances, that EBS volume and its attachment, as OpsWorks left them (the
stand-in aws provider's records: what `Read` returns, as AWS's Describe calls would). The first preview must import
each of them (Pulumi's `import` option, the ids the importer wrote), create none of them, and replace nothing.

What OpsWorks launched them with (AMI, instance type, subnet, security groups, key pair, tags, volume type) differs
from what stackkit would choose: the components ignore those inputs on adopted resources, so the import is accepted;
what must match is what identifies them (the volume's size and AZ, the attachment's device, volume and instance).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stackkit.local.aws.cloud import Cloud
from stackkit.local.aws.provider import INPUTS_KEY
from stackkit.local.stack import LocalStack
from tests.conftest import ROOT

pytestmark = pytest.mark.engine
PROJECT = ROOT / "tests/opsworks_import/expected/aws-describe-adopt"
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN7+KkuhYVoSPYgAOJpDzXp+jx31ECEGIZiOIRyl4wAX adopt", "adopt-key")
INSTANCE, VOLUME, ATTACHMENT = ("aws:ec2/instance:Instance", "aws:ebs/volume:Volume",
                                "aws:ec2/volumeAttachment:VolumeAttachment")


def _record(inputs: dict[str, Any], **outputs: Any) -> dict[str, Any]:
    return {**inputs, **outputs, INPUTS_KEY: sorted(inputs)}


# as OpsWorks launched them (AWS's samples: the describe-instances and describe-volumes pages of the OpsWorks CLI
# reference): its own AMI, an old instance type, its subnet, security groups and key pair, its tags
EXISTING = {
    "i-5cd23551": (INSTANCE, _record(
        {"ami": "ami-35501205", "instanceType": "t1.micro", "subnetId": "subnet-b8de0ddd",
         "vpcSecurityGroupIds": ["sg-c4d3f0a1"], "keyName": "opsworks-key", "associatePublicIpAddress": True,
         "tags": {"opsworks:instance": "ip-192-0-2-0", "opsworks:stack": "TomStack-sd"}},
        availabilityZone="us-east-1a", privateIp="10.0.0.10", publicIp="192.0.2.0", instanceState="running",
        arn="arn:aws:ec2:us-east-1:123456789012:instance/i-5cd23551")),
    "i-8d2dca80": (INSTANCE, _record(
        {"ami": "ami-35501205", "instanceType": "c3.large", "subnetId": "subnet-b8de0ddd",
         "vpcSecurityGroupIds": ["sg-c4d3f0a1"], "keyName": "opsworks-key", "associatePublicIpAddress": True,
         "tags": {"opsworks:instance": "custom11", "opsworks:stack": "TomStack-sd"}},
        availabilityZone="us-east-1a", privateIp="10.0.0.11", publicIp="192.0.2.1", instanceState="running",
        arn="arn:aws:ec2:us-east-1:123456789012:instance/i-8d2dca80")),
    "vol-295c1638": (VOLUME, _record(
        {"availabilityZone": "us-east-1a", "size": 1, "type": "standard", "encrypted": False,
         "tags": {"opsworks:volume": "clitest"}},
        arn="arn:aws:ec2:us-east-1:123456789012:volume/vol-295c1638")),
    "/dev/sdi:vol-295c1638:i-8d2dca80": (ATTACHMENT, _record(
        {"deviceName": "/dev/sdi", "volumeId": "vol-295c1638", "instanceId": "i-8d2dca80"})),
}


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str]]:
    ls = LocalStack(PROJECT / "Pulumi.test.yaml", tmp_path_factory.mktemp("adopt"), ssh_key=KEY)
    cloud = Cloud(ls.workdir / "cloud")
    for id_, (type_, props) in EXISTING.items():
        cloud.put(id_, type_, props)
    return [(s.op, s.type, s.name) for s in ls.preview().steps]


def test_the_first_preview_imports_every_adopted_resource(preview: list[tuple[str, str, str]]) -> None:
    imported = {(t, n) for op, t, n in preview if op == "import"}
    assert imported == {(INSTANCE, "ip-192-0-2-0"), (INSTANCE, "custom11"), (VOLUME, "tomstack-sd-volume-clitest"),
                        (ATTACHMENT, "custom11-clitest")}


def test_it_creates_none_of_them_and_replaces_nothing(preview: list[tuple[str, str, str]]) -> None:
    assert [(op, t, n) for op, t, n in preview if op == "create" and t in (INSTANCE, VOLUME, ATTACHMENT)] == []
    assert [s for s in preview if s[0] in ("replace", "create-replacement", "delete-replaced", "delete")] == []


def test_the_stack_around_them_is_created(preview: list[tuple[str, str, str]]) -> None:
    created = {t for op, t, _ in preview if op == "create"}
    # stackkit's own network, security groups and lifecycle around the adopted machines; the registered Elastic IP has
    # no allocation id in AWS's describe-elastic-ips sample, so it is allocated anew (docs/importing.md)
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/securityGroup:SecurityGroup", "command:remote:Command",
            "aws:ec2/eip:Eip"} <= created


def test_a_mismatch_shows_as_an_update_after_the_import_never_a_replacement(tmp_path: Path) -> None:
    """A volume whose size differs from the stack file: the engine imports it and plans an update of `size` right
    after (Pulumi v3.274's import then update), which the preview shows before anything runs; nothing is replaced."""
    ls = LocalStack(PROJECT / "Pulumi.test.yaml", tmp_path, ssh_key=KEY)
    cloud = Cloud(ls.workdir / "cloud")
    for id_, (type_, props) in EXISTING.items():
        cloud.put(id_, type_, {**props, "size": 2} if type_ == VOLUME else props)
    steps = [(s.op, s.name, s.diffs) for s in ls.preview().steps if s.type in (VOLUME, ATTACHMENT)]
    assert steps == [("import", "tomstack-sd-volume-clitest", ()), ("update", "tomstack-sd-volume-clitest", ("size",)),
                     ("import", "custom11-clitest", ())]
