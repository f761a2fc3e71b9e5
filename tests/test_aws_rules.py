"""Rules of stackkit/config/aws_rules.py and schedule.py that are not a config path of their own: each engine's default
version is one RDS offers, zones come from the pinned tzdata (never the host), ARNs are built per partition."""

from __future__ import annotations

import pytest

from stackkit.config import aws_rules
from stackkit.config.models import DatabaseResource
from stackkit.config.schedule import zone, zones


@pytest.mark.parametrize("engine", sorted(aws_rules.RDS_ENGINE_VERSIONS))
def test_the_default_version_is_checked_for_its_engine(engine: str) -> None:
    db = DatabaseResource.model_validate({"engine": engine, "name": "app", "username": "app", "password": "s3cret-pw"})
    assert db.engine_version == aws_rules.RDS_DEFAULT_VERSION[engine]
    assert aws_rules.rds_major(engine, db.engine_version) == db.engine_version


def test_zones_come_from_the_pinned_tzdata() -> None:
    import tzdata
    known = zones()
    assert "Europe/Amsterdam" in known and "UTC" in known
    assert not {"localtime", "Factory", "posixrules"} & known
    assert zone("Europe/Amsterdam").key == "Europe/Amsterdam"
    assert tzdata.IANA_VERSION        # the database version pinned in requirements.txt


@pytest.mark.parametrize(("region", "partition"), [("eu-west-1", "aws"), ("us-gov-west-1", "aws-us-gov"),
                                                   ("cn-north-1", "aws-cn")])
def test_partition_of_a_region(region: str, partition: str) -> None:
    assert aws_rules.partition(region) == partition


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1"])
def test_the_roles_policies_name_instances_by_tag_and_fit_iam(region: str) -> None:
    """Tag conditions, not one ARN per instance: the same size at any stack size, far below IAM's 10,240."""
    from stackkit.aws import policies
    where = policies.Account("s" * 40, region, "123456789012")
    for policy in (policies.scheduler(where), policies.scaler(where, "f"), policies.wake(where, "f")):
        assert policies.size(policy) < policies.INLINE_POLICY_MAX // 4
        resources = [st["Resource"] for st in policy["Statement"] if st["Resource"] != "*"]
        assert all(r.startswith(f"arn:{aws_rules.partition(region)}:") for r in resources)
