"""Last of the e2e session: `pulumi destroy` of the cluster, by the real engine. It refuses to delete the protected
data holders (the ZEO server's data and backup volumes), naming them, and their data stays on disk; destroying all
but the protected resources then succeeds (the instances run their shutdown scripts first), and the volumes' data is
still there for a stack that comes back."""

from __future__ import annotations

import pytest

from stackkit.local.stack import UpFailed
from tests.e2e.conftest import Cluster

pytestmark = pytest.mark.e2e
VOLUME = "aws:ebs/volume:Volume"


def test_destroy_refuses_the_protected_data_and_keeps_it(cluster: Cluster) -> None:
    volumes = {i: r["props"] for i, r in cluster.ls.cloud.records().items() if r["type"] == VOLUME}
    assert volumes, "the zeoserver layer's volumes are recorded"
    data = {i: sorted(p.name for p in cluster.ls.cloud.volume_dir(i).rglob("*") if p.is_file()) for i in volumes}
    assert any(any(name.endswith(".fs") for name in files) for files in data.values()), data
    with pytest.raises(UpFailed) as refused:
        cluster.ls.destroy()
    message = str(refused.value)
    assert "protected" in message, message
    report = cluster.ls.destroy(exclude_protected=True)
    assert not [s for s in report.steps if s.type == VOLUME and s.changes]
    assert {i for i, r in cluster.ls.cloud.records().items() if r["type"] == VOLUME} == set(volumes)
    for i, files in data.items():
        assert sorted(p.name for p in cluster.ls.cloud.volume_dir(i).rglob("*") if p.is_file()) == files, i
    assert [r for r in cluster.ls.cloud.records().values() if r["type"] == "aws:ec2/instance:Instance"] == []
