"""Time- and load-based instances on real machines: membership that changes outside `up`.

A plone instance gets a weekly schedule, another one is load-based on its layer's CPU; `up` adds the schedules, the
alarms and the function and runs no script. Then, under traffic through the frontend, the local cloud plays what AWS
does between two `up`s (stackkit.local.playback): the schedule stops the time-based machine (haproxy marks its
backends down, 0 failed requests), starts it (it serves again), the scaling function stops and starts the load-based
one, ignoring an alarm inside ignore_minutes. haproxy's config never changes and nothing runs configure: 0 scripts.

Run after the converge: pytest tests/e2e/test_cluster.py::test_converge tests/e2e/test_time_and_load_based.py
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stackkit.config.schedule import Schedule
from stackkit.local.machines import alive
from stackkit.local.playback import play_scale, play_schedule
from tests.e2e.conftest import Cluster, Traffic

pytestmark = pytest.mark.e2e
SCHEDULE = {"timezone": "Europe/Amsterdam", "mon": "08-18", "tue": "08-18", "wed": "08-18", "thu": "08-18",
            "fri": "08-18"}
SATURDAY_NOON = datetime.fromisoformat("2026-11-28T12:00:00+01:00")     # off
MONDAY_NINE = datetime.fromisoformat("2026-11-30T09:00:00+01:00")       # on since 08:00
INVOCATION = "aws:lambda/invocation:Invocation"
COMMAND = "command:remote:Command"
LOAD_BASED = {"up": {"cpu": 80, "minutes": 5, "instances": 1}, "down": {"cpu": 30, "minutes": 10, "instances": 1},
              "ignore_minutes": 1}


def servers(cluster: Cluster) -> dict[str, tuple[str, int]]:
    """haproxy's view on web1: backend plone's servers -> (status, total sessions), from its stats CSV."""
    text = cluster.sh("web1", "curl -sf 'http://127.0.0.1:8404/stats;csv'").stdout
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {r["svname"]: (r["status"], int(r["stot"] or 0)) for r in rows
            if r["pxname"] == "plone" and r["svname"] not in ("FRONTEND", "BACKEND")}


def wait_status(cluster: Cluster, instance: str, wanted: str, timeout: float = 120) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        mine = {s: v for s, v in servers(cluster).items() if s.startswith(f"{instance}-")}
        if mine and all(st.startswith(wanted) for st, _ in mine.values()):
            return round(time.monotonic() - t0, 1)
        time.sleep(0.5)
    raise AssertionError(f"{instance}'s backends not {wanted} after {timeout} s: {servers(cluster)}\n"
                         f"{what_it_runs(cluster, instance)}")


def what_it_runs(cluster: Cluster, instance: str) -> str:
    """What the instance says about its Zope clients and haproxy's agent, for a failure's message."""
    out = cluster.sh(instance, "cat /var/lib/stackkit/agent-state; systemctl --no-pager --full status 'zope@*' "
                               "stackkit-drain.service; journalctl --no-pager -b -n 60 -u 'zope@*'; "
                               "curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:8081/")
    return out.stdout[-6000:] + out.stderr[-2000:]


def served_by(cluster: Cluster, instance: str) -> int:
    return sum(n for s, (_, n) in servers(cluster).items() if s.startswith(f"{instance}-"))


def running(cluster: Cluster, instance: str) -> bool:
    return alive(int(cluster.fleet.state()[cluster.machine(instance)].get("pid") or 0))


def haproxy_cfg(cluster: Cluster) -> str:
    return hashlib.sha256(cluster.sh("web1", "cat /etc/haproxy/haproxy.cfg").stdout.encode()).hexdigest()


def begin(cluster: Cluster) -> tuple[str, Traffic]:
    """haproxy's config as it is, and a request loop through the frontend, running."""
    before = haproxy_cfg(cluster)
    traffic = Traffic(cluster.url())
    traffic.start()
    time.sleep(3)
    return before, traffic


@pytest.fixture(scope="module")
def roles(cluster: Cluster) -> Iterator[tuple[str, str]]:
    """(time-based, load-based): two plone instances besides one that stays 24/7; one is added if needed."""
    assert cluster.fleet.state(), "run after test_cluster.py::test_converge"
    if len(cluster.plone_instances()) < 3:
        cluster.config["stackkit:instances"]["app9"] = {"layers": ["plone"]}
        cluster.up()
    plone = cluster.plone_instances()
    yield plone[-2], plone[-1]
    # whatever happened here, the next modules find every machine running, as this module found them
    for i in plone[-2:]:
        if not running(cluster, i):
            cluster.fleet.start(cluster.machine(i))


def test_adding_schedules_and_scaling_runs_no_script(cluster: Cluster, roles: tuple[str, str]) -> None:
    timed, scaled = roles
    cluster.config["stackkit:instances"][timed]["schedule"] = SCHEDULE
    cluster.config["stackkit:instances"][scaled]["load_based"] = True
    cluster.config["stackkit:layers"]["plone"]["load_based"] = LOAD_BASED
    assert cluster.predicted() == set()
    report = cluster.up()
    assert report.commands() == []
    types = {r["type"] for r in cluster.ls.cloud.records().values()}
    assert {"aws:scheduler/schedule:Schedule", "aws:lambda/function:Function"} <= types


def test_the_schedule_stops_and_starts_a_plone_instance_under_traffic(cluster: Cluster, roles: tuple[str, str]) -> None:
    timed, _ = roles
    before, traffic = begin(cluster)
    stopped = play_schedule(cluster.ls.cloud, SATURDAY_NOON)
    assert [(f.instance, f.action) for f in stopped] == [(cluster.machine(timed), "stop")]
    assert not running(cluster, timed)
    marked_down = wait_status(cluster, timed, "DOWN")
    time.sleep(5)
    # the week's first start: Monday 08:00 fired last
    started = play_schedule(cluster.ls.cloud, MONDAY_NINE)
    assert [(f.instance, f.action) for f in started] == [(cluster.machine(timed), "start")]
    back_up = wait_status(cluster, timed, "UP")
    sessions = served_by(cluster, timed)
    time.sleep(5)
    traffic.stop()
    print(f"\nfigure schedule_stop_marked_down_seconds: {marked_down}; start_marked_up_seconds: {back_up}; "
          f"requests: {traffic.sent}, failed: {traffic.failed}")
    assert traffic.failed == 0, f"{traffic.errors}\n{cluster.haproxy_log()}"
    assert served_by(cluster, timed) > sessions, "the started instance serves again"
    # it drains itself again at its next stop (stackkit-drain.service, ordered after the Zope clients)
    assert cluster.sh(timed, "systemctl is-active stackkit-drain.service").stdout.strip() == "active"
    # again at the same time: nothing to do
    assert play_schedule(cluster.ls.cloud, MONDAY_NINE) == []
    assert haproxy_cfg(cluster) == before, "haproxy's config never changed"


def test_the_scaling_function_stops_and_starts_the_load_based_instance(cluster: Cluster,
                                                                        roles: tuple[str, str]) -> None:
    timed, scaled = roles
    before, traffic = begin(cluster)
    now = time.time()
    down = play_scale(cluster.ls.cloud, "plone", "down", now=now)
    assert down.stop == (cluster.machine(scaled),) and down.start == ()
    assert not running(cluster, scaled) and running(cluster, timed), "only the load-based instance stops"
    wait_status(cluster, scaled, "DOWN")
    # the up alarm inside ignore_minutes (1): ignored
    ignored = play_scale(cluster.ls.cloud, "plone", "up", now=now + 30)
    assert ignored.start == () and not running(cluster, scaled)
    up = play_scale(cluster.ls.cloud, "plone", "up", now=now + 61)
    assert up.start == (cluster.machine(scaled),)
    wait_status(cluster, scaled, "UP")
    sessions = served_by(cluster, scaled)
    time.sleep(5)
    traffic.stop()
    print(f"\nfigure scaling_requests: {traffic.sent}, failed: {traffic.failed}")
    assert traffic.failed == 0, f"{traffic.errors}\n{cluster.haproxy_log()}"
    assert served_by(cluster, scaled) > sessions
    assert haproxy_cfg(cluster) == before


def test_a_deploy_wakes_the_stopped_instances_and_settles_them_after(cluster: Cluster, roles: tuple[str, str],
                                                                    tmp_path: Path) -> None:
    """Both stopped (the schedule's Saturday, the down alarm), a new revision: `up` wakes each before its deploy and
    settles it after: stopped again (load-based; time-based outside its hours), or left running inside its hours."""
    timed, scaled = roles
    play_schedule(cluster.ls.cloud, SATURDAY_NOON)
    play_scale(cluster.ls.cloud, "plone", "down", now=time.time() + 600)
    assert not running(cluster, timed) and not running(cluster, scaled)
    cluster.publish_version("site", "3", tmp_path)
    # 30 s per request, not 10: in 2 of 4 full runs one request of about 2400 took longer than 10 s here (not yet
    # explained: haproxy retrying a connect to a machine that is stopping, or the 2-core host under the deploys' pip);
    # every request must still succeed
    traffic = Traffic(cluster.url(), timeout=30)
    traffic.start()
    report = cluster.up()
    traffic.stop()
    invoked = [s.name for s in report.changed(INVOCATION) if s.op in ("create", "create-replacement") and s.done]
    assert sorted(invoked) == sorted(f"{i}-{w}" for i in (timed, scaled) for w in ("wake", "settle"))
    deployed = {i for i, e, _ in report.ran() if e == "deploy"}
    assert deployed == set(cluster.plone_instances())
    on_hours = Schedule.model_validate(SCHEDULE).is_on(datetime.now(UTC))
    print(f"\nfigure deploy_with_two_stopped_instances_seconds: {round(report.seconds, 1)}; requests: "
          f"{traffic.sent}, failed: {traffic.failed}; {timed} inside its hours: {on_hours}")
    assert traffic.failed == 0, traffic.errors
    assert running(cluster, timed) is on_hours and not running(cluster, scaled), "settled as they were"
    # back to serving for the next tests: the new revision is on both
    for i in (timed, scaled):
        cluster.fleet.start(cluster.machine(i))
        wait_status(cluster, i, "UP")
        assert cluster.sh(i, "cat /srv/apps/site/current/VERSION").stdout == "3"


def test_after_all_that_up_has_nothing_to_run_and_removing_it_runs_nothing(cluster: Cluster,
                                                                         roles: tuple[str, str]) -> None:
    timed, scaled = roles
    assert cluster.predicted() == set()
    assert cluster.up().commands() == [], "0 configure anywhere: the stops and starts changed no config"
    del cluster.config["stackkit:instances"][timed]["schedule"]
    del cluster.config["stackkit:instances"][scaled]["load_based"]
    del cluster.config["stackkit:layers"]["plone"]["load_based"]
    assert cluster.up().commands() == []
    assert not {r["type"] for r in cluster.ls.cloud.records().values()} & {"aws:scheduler/schedule:Schedule",
                                                                          "aws:lambda/function:Function"}
