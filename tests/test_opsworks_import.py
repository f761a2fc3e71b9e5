"""`import opsworks` (stackkit.importer): inputs, mapping, report and bad input, as data under tests/opsworks_import/.

Golden projects: tests/opsworks_import/expected/<case>/ (regenerate with STACKKIT_UPDATE_GOLDEN=1 after an intended
change). Each case's input is one the table names: our own templates (templates/, every mapping and intrinsic) and
AWS's documentation samples (aws_docs/, SOURCES.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from stackkit.cli import main
from stackkit.config.stackfile import read_stack_file
from stackkit.importer import report, write
from stackkit.importer.describe import from_folder
from stackkit.importer.intrinsics import NO_VALUE, Resolver
from stackkit.importer.mapping import Options
from stackkit.importer.mapping import project as map_project
from stackkit.paths import ROOT
from tests.opsworks_import.loopback import serve

DATA = Path(__file__).parent / "opsworks_import"
# the plans' layer trees (stackkit.paths.use_layers_of) go to a cache of the test run's own
PLAN_ENV = {**os.environ, "XDG_CACHE_HOME": str(Path(tempfile.gettempdir()) / "stackkit-test-cache")}
EXPECTED = DATA / "expected"
CASES: dict[str, list[str]] = {
    "full-yaml": ["--cloudformation", "templates/full.yaml", "--region", "eu-west-1"],
    "full-json": ["--cloudformation", "templates/full.json", "--region", "eu-west-1"],
    "aws-php-yaml": ["--cloudformation", "aws_docs/php-app-stack.yaml"],
    "aws-php-json": ["--cloudformation", "aws_docs/php-app-stack.json"],
    "aws-describe": ["--describe", "aws_docs/describe"],
    "aws-describe-adopt": ["--describe", "aws_docs/describe", "--adopt"],
}
# the same stack, two inputs: the same stack file
SAME = [("full-yaml", "full-json"), ("aws-php-yaml", "aws-php-json")]


def run_import(case: str, out: Path) -> None:
    args = CASES[case]
    args = [str(DATA / a) if a.endswith((".yaml", ".json")) or a.startswith("aws_docs/") else a for a in args]
    assert main(["import", "opsworks", *args, "--stack", "test", "--out", str(out)]) == 0


def project(out: Path) -> dict[str, str]:
    text = {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}
    text.pop("Pulumi.yaml")         # names the checkout's path
    return {k: v.replace(str(DATA), "tests/opsworks_import") for k, v in text.items()}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for case in CASES:
        out[case] = tmp_path_factory.mktemp("import") / case
        run_import(case, out[case])
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_imported_project_matches_golden(imported: dict[str, Path], case: str) -> None:
    now = project(imported[case])
    golden = EXPECTED / case
    if os.environ.get("STACKKIT_UPDATE_GOLDEN"):
        for rel, text in now.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_text(text)
    on_disk = {str(p.relative_to(golden)): p.read_text() for p in sorted(golden.rglob("*")) if p.is_file()}
    assert sorted(now) == sorted(on_disk), "a file appeared or vanished: STACKKIT_UPDATE_GOLDEN=1 if intended"
    for rel, text in now.items():
        assert text == on_disk[rel], f"{case}/{rel} differs from its golden file"


@pytest.mark.parametrize(("a", "b"), SAME)
def test_one_stack_two_inputs_one_stack_file(imported: dict[str, Path], a: str, b: str) -> None:
    read = lambda case: (imported[case] / "Pulumi.test.yaml").read_text().split("\n", 1)[1]  # noqa: E731
    assert read(a) == read(b)


def test_no_echo_values_and_secure_values_never_reach_the_project(imported: dict[str, Path]) -> None:
    text = "".join(project(imported["full-yaml"]).values())
    for value in ("never-written", "plain-but-secure", "never-written-either", "deploy-key-text"):
        assert value not in text
    stack = (imported["full-yaml"] / "Pulumi.test.yaml").read_text()
    for path in ("API_TOKEN", "SESSION_SECRET", "password", "ssh_private_key"):
        assert f"{path}:\n" in stack
    assert stack.count("secure: v1:placeholder") == 4


def test_each_event_with_a_recipe_to_port_stops_with_its_name(imported: dict[str, Path]) -> None:
    layer = imported["full-yaml"] / "layers" / "web-servers"
    for event in ("setup", "configure", "deploy", "undeploy", "shutdown"):
        script = (layer / f"{event}.sh.j2").read_text()
        assert f"sk_die 'layer web-servers: {event}: not ported from OpsWorks yet: shop::{event};" in script
    data = (imported["full-yaml"] / "layers" / "data" / "setup.sh.j2").read_text()
    assert "sk_die" not in data and "opsworks_initial_setup" in data


@pytest.mark.parametrize("case", ["full-yaml", "aws-php-yaml", "aws-describe-adopt"])
def test_imported_project_plans_with_its_own_layers(imported: dict[str, Path], case: str) -> None:
    stack_file = imported[case] / "Pulumi.test.yaml"
    r = subprocess.run([sys.executable, "-m", "stackkit", "plan", "--config", str(stack_file), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300, env=PLAN_ENV)
    assert r.returncode == 0, r.stderr[-2000:]
    types = [res["type"] for res in json.loads(r.stdout)["resources"]]
    assert types.count("aws:ec2/instance:Instance") == len(read_stack_file(stack_file).config["stackkit:instances"])


def test_adopted_resources_are_imported_protected_and_nothing_new_holds_data(imported: dict[str, Path]) -> None:
    """The plan of an adopted stack: the instances, the registered volume and its attachment are imported (Pulumi's
    import option) and protected, ignoring what OpsWorks launched them with; no volume or address is made anew."""
    r = subprocess.run([sys.executable, "-m", "stackkit", "plan", "--config",
                        str(imported["aws-describe-adopt"] / "Pulumi.test.yaml"), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300, env=PLAN_ENV)
    assert r.returncode == 0, r.stderr[-2000:]
    res = {(x["type"], x["name"]): x["options"] for x in json.loads(r.stdout)["resources"]}
    imported_ids = {k: o["importId"] for k, o in res.items() if o.get("importId")}
    assert imported_ids == {("aws:ec2/instance:Instance", "ip-192-0-2-0"): "i-5cd23551",
                            ("aws:ec2/instance:Instance", "custom11"): "i-8d2dca80",
                            ("aws:ebs/volume:Volume", "tomstack-sd-volume-clitest"): "vol-295c1638",
                            ("aws:ec2/volumeAttachment:VolumeAttachment", "custom11-clitest"):
                                "/dev/sdi:vol-295c1638:i-8d2dca80"}
    for key in imported_ids:
        if key[0] != "aws:ec2/volumeAttachment:VolumeAttachment":
            assert res[key]["protect"] and {"tags", "tagsAll"} <= set(res[key]["ignoreChanges"])
    assert res[("aws:ec2/volumeAttachment:VolumeAttachment", "custom11-clitest")]["ignoreChanges"] == [
        "stopInstanceBeforeDetaching"]
    assert {"ami", "subnetId", "userData", "vpcSecurityGroupIds"} <= set(
        res[("aws:ec2/instance:Instance", "custom11")]["ignoreChanges"])
    assert [k[1] for k in res if k[0] == "aws:ebs/volume:Volume"] == ["tomstack-sd-volume-clitest"]
    # the registered address (no allocation id in OpsWorks' output) is the one Elastic IP besides the new VPC's NAT
    # gateway's; none per instance
    assert sorted(k[1] for k in res if k[0] == "aws:ec2/eip:Eip") == ["tomstack-sd-eip-eip-54-214-246-6",
                                                                       "tomstack-sd-nat-0"]


def test_adopt_writes_the_running_resources_ids(imported: dict[str, Path]) -> None:
    stack = (imported["aws-describe-adopt"] / "Pulumi.test.yaml").read_text()
    for ident in ("i-5cd23551", "i-8d2dca80", "vol-295c1638"):
        assert f"import_id: {ident}\n" in stack
    assert "import_id" not in (imported["aws-describe"] / "Pulumi.test.yaml").read_text()


BAD = json.loads((DATA / "bad" / "cases.json").read_text())


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_exact_message_and_nothing_written(name: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    source = DATA / "bad" / name
    out = tmp_path / "out"
    flag = "--describe" if source.is_dir() else "--cloudformation"
    assert main(["import", "opsworks", flag, str(source), "--stack", "test", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[1].strip() == BAD[name].replace("{input}", str(source))
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_out_folder_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["import", "opsworks", "--cloudformation", str(DATA / "templates" / "full.yaml"), "--stack", "t",
                 "--out", str(tmp_path)]) == 1
    assert "exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


INTRINSICS = json.loads((DATA / "intrinsics.json").read_text())


@pytest.mark.parametrize(("expression", "expected"), INTRINSICS["cases"], ids=[json.dumps(c[0])[:60]
                                                                               for c in INTRINSICS["cases"]])
def test_intrinsic(expression: Any, expected: Any) -> None:
    r = Resolver(INTRINSICS["template"], INTRINSICS["region"], INTRINSICS["stack_name"], INTRINSICS["parameters"])
    got = r.resolve(expression, "Test")
    got = None if got is NO_VALUE else got
    assert (str(got) if not isinstance(got, (list, dict, bool, int, type(None))) else got) == expected


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials that sign loopback requests only; no user config, no instance metadata."""
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": str(tmp_path /
                 "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"
                 }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


STACK_ID = "38ee91e2-abdc-4208-a107-0b7168b3cc7a"


@pytest.mark.parametrize("adopt", [False, True])
def test_live_api_gives_the_describe_stack_file(aws_env: None, imported: dict[str, Path], tmp_path: Path,
                                                adopt: bool) -> None:
    calls: list[str] = []
    with serve(DATA / "aws_docs" / "describe", calls) as url:
        out = tmp_path / "live"
        assert main(["import", "opsworks", "--stack-id", STACK_ID, "--region", "us-east-1", "--endpoint-url", url,
                     "--stack", "test", "--out", str(out), *(["--adopt"] if adopt else [])]) == 0
    live = (out / "Pulumi.test.yaml").read_text().split("\n", 1)[1]
    saved = (imported["aws-describe-adopt" if adopt else "aws-describe"] / "Pulumi.test.yaml").read_text()
    assert live == saved.split("\n", 1)[1]
    assert sorted(calls) == sorted(["DescribeStacks", "DescribeLayers", "DescribeInstances", "DescribeApps",
                                    "DescribeElasticIps", "DescribeVolumes", "DescribeRdsDbInstances",
                                    "DescribeTimeBasedAutoScaling", "DescribeLoadBasedAutoScaling",
                                    "DescribeUserProfiles", "DescribePermissions", "DescribeElasticLoadBalancers",
                                    "DescribeAddresses"])


def test_adopting_an_elastic_ip_takes_its_allocation_id_from_ec2(aws_env: None, tmp_path: Path) -> None:
    folder = tmp_path / "describe"
    folder.mkdir()
    for f in (DATA / "aws_docs" / "describe").iterdir():
        (folder / f.name).write_text(f.read_text())
    (folder / "ec2-describe-addresses.json").write_text(json.dumps(
        {"Addresses": [{"PublicIp": "54.214.246.6", "AllocationId": "eipalloc-0abc123", "Domain": "vpc"}]}))
    with serve(folder, []) as url:
        live = tmp_path / "live"
        assert main(["import", "opsworks", "--stack-id", STACK_ID, "--region", "us-east-1", "--endpoint-url", url,
                     "--stack", "test", "--out", str(live), "--adopt"]) == 0
    saved = tmp_path / "saved"
    assert main(["import", "opsworks", "--describe", str(folder), "--stack", "test", "--out", str(saved),
                 "--adopt"]) == 0
    text = (live / "Pulumi.test.yaml").read_text()
    assert "import_id: eipalloc-0abc123" in text
    assert text.split("\n", 1)[1] == (saved / "Pulumi.test.yaml").read_text().split("\n", 1)[1]


def test_live_api_errors_name_the_call(aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve(tmp_path, []) as url:     # an empty folder: the server fails every call
        assert main(["import", "opsworks", "--stack-id", STACK_ID, "--region", "us-east-1", "--endpoint-url", url,
                     "--stack", "test", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[1].strip() == (f"opsworks:{STACK_ID} (us-east-1): DescribeStacks: "
                                           "ResourceNotFoundException: Unable to find the stack")
    assert not (tmp_path / "out").exists()


def test_cookbooks_scan_lists_the_node_attributes_each_recipe_reads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["import", "opsworks", "--cloudformation", str(DATA / "templates" / "full.yaml"), "--stack", "test",
                 "--out", str(out), "--cookbooks", str(DATA / "cookbooks")]) == 0
    report = (out / "IMPORT.md").read_text()
    assert ("- `shop::setup`: node.json provides `node[:deploy][:shop]`, `node[:opsworks][:layers]`, "
            "`node[:opsworks][:stack]`; not provided (custom JSON → attributes, or port): "
            "`node[:opsworks][:ruby_version]`, `node[:shop][:workers]`") in report
    assert "- `shop::configure`: not found under" in report
    assert "- `shop::deploy`: reads no node attribute" in report


def test_adopting_a_database_an_app_uses_imports_it(tmp_path: Path) -> None:
    snap = from_folder(DATA / "aws_docs" / "describe")
    snap.apps[0]["DataSources"] = [{"Type": "RdsDbInstance", "Arn": snap.rds_db_instances[0]["RdsDbInstanceArn"],
                                    "DatabaseName": "jsp"}]
    proj = map_project(snap, Options(stack="test", adopt=True))
    db = proj.config["stackkit:resources"]["databases"]["clitestdb"]
    assert (db["import_id"], db["name"], db["username"]) == ("clitestdb", "jsp", "cliuser")
    assert proj.config["stackkit:apps"]["simplejsp"]["data_source"] == "clitestdb"
    out = tmp_path / "out"
    write.write(out, write.files(proj, "test", snap.source, report.render(proj, snap.source, "test"), out))
    r = subprocess.run([sys.executable, "-m", "stackkit", "plan", "--config", str(out / "Pulumi.test.yaml"), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300, env=PLAN_ENV)
    assert r.returncode == 0, r.stderr[-2000:]
    (rds,) = [x for x in json.loads(r.stdout)["resources"] if x["type"] == "aws:rds/instance:Instance"]
    assert rds["options"]["importId"] == "clitestdb" and rds["options"]["protect"]
    assert rds["inputs"]["identifier"] == "clitestdb"
    assert {"dbName", "username", "storageEncrypted", "dbSubnetGroupName"} <= set(rds["options"]["ignoreChanges"])


def test_custom_json_overriding_opsworks_own_node_is_reported_not_carried() -> None:
    snap = from_folder(DATA / "aws_docs" / "describe")
    snap.stack["CustomJson"] = json.dumps({"deploy": {"simplejsp": {"environment": {"A": "1"}}},
                                               "opsworks": {"ruby_version": "2.0"}, "notes": {"greeting": "hello"}})
    proj = map_project(snap, Options(stack="test"))
    assert proj.config["stackkit:stack"]["attributes"] == {"notes": {"greeting": "hello"}}
    assert [c for c in proj.check if "CustomJson" in c] == [
        f"Stack.CustomJson: '{k}' overrode OpsWorks' own node['{k}'], not carried: stackkit makes node.json's '{k}' "
        "from the stack file; move each value to the app's environment or a layer's attributes, and the recipes that "
        "read it with it" for k in ("deploy", "opsworks")]
