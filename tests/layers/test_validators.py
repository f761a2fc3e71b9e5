"""Every config file the layers render, for production, staging and the RelStorage example, checked by the real
daemon's own validator (haproxy -c, nginx -t, varnishd -C, ZEO's and Zope's config loaders), and every bundle by
shellcheck. The files are taken from the bundles themselves: exactly what would reach the instances."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stackkit.config.stackfile import StackFile
from stackkit.plan.evaluate import evaluate
from tests.conftest import bundles, staged

pytestmark = pytest.mark.daemons

VALIDATORS = {
    "/etc/haproxy/haproxy.cfg": ["haproxy", "-c", "-q", "-f", "{}"],
    "/etc/nginx/nginx.conf": ["nginx", "-t", "-q", "-c", "{}"],
    "/etc/varnish/default.vcl": ["varnishd", "-j", "none", "-C", "-f", "{}"],
    "/etc/stackkit/zeoserver/zeo.conf": [sys.executable, "-c",
                                         "import sys; from ZEO.runzeo import ZEOOptions; ZEOOptions().realize(['-C', sys.argv[1]])",
                                         "{}"],
    "/etc/stackkit/plone/zope.conf": [sys.executable, "-c",
                                      "import sys; from Zope2.Startup.options import ZopeWSGIOptions; ZopeWSGIOptions(sys.argv[1])()",
                                      "{}"],
    "/etc/stackkit/plone/create-site.py": [sys.executable, "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())",
                                           "{}"],
    "/etc/stackkit/plone/zope.ini": [sys.executable, "-c",
                                     "import sys; from paste.deploy import appconfig, loadserver; g = {'http_port': '8081'}; "
                                     "appconfig('config:' + sys.argv[1], global_conf=g); loadserver('config:' + sys.argv[1], global_conf=g)",
                                     "{}"],
}
# files with no validator of their own: systemd units (checked by systemd-analyze where it can run), plain data, and
# the app's EnvironmentFile (systemd has no offline parser: the e2e deploy reads its values back on a machine)
UNCHECKED = {"/etc/memcached.conf", "/etc/stackkit/plone/app.env"}


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed: run scripts/setup (as root) to install the validators")


@pytest.fixture(scope="module")
def tls_stack(stack_files: dict[str, StackFile], tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    """The RelStorage example with a real self-signed certificate on its app, so nginx -t checks the TLS server."""
    _need("openssl")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=www.example.com",
                    "-keyout", str(d / "site.key"), "-out", str(d / "site.crt")], check=True, capture_output=True)
    sf = stack_files["relstorage"]
    apps = {**sf.config["stackkit:apps"]}
    apps["site"] = {**apps["site"], "ssl": {"certificate": (d / "site.crt").read_text(), "key": (d / "site.key").read_text()}}
    tls = StackFile(path=sf.path, config={**sf.config, "stackkit:apps": apps},
                    secret_keys=sf.secret_keys | {"stackkit:apps"}, placeholders=sf.placeholders)
    return evaluate(tls), d


def _rendered(plans: dict, tls_stack: tuple) -> list[tuple[str, str, str, str]]:
    out = []
    named = {**plans, "relstorage+tls": tls_stack[0]}
    for stack, plan in named.items():
        for command, files in staged(plan).items():
            for dest, content in files.items():
                out.append((stack, command, dest, content))
    return out


def test_every_staged_file_is_known(plans: dict, tls_stack: tuple) -> None:
    dests = {dest for _, _, dest, _ in _rendered(plans, tls_stack)}
    unknown = {d for d in dests if d not in VALIDATORS and d not in UNCHECKED and not d.startswith(("/etc/systemd/", "/usr/local/sbin/"))}
    assert unknown == set()
    assert set(VALIDATORS) <= dests, "every validated kind of file is rendered by at least one shipped stack"


def test_rendered_configs_pass_their_daemons_validators(plans: dict, tls_stack: tuple, tmp_path: Path) -> None:
    for tool in ("haproxy", "nginx", "varnishd"):
        _need(tool)
    certs = tls_stack[1]
    checked = 0
    failures = []
    for i, (stack, command, dest, content) in enumerate(_rendered(plans, tls_stack)):
        if dest not in VALIDATORS:
            continue
        if dest.endswith("nginx.conf"):
            content = content.replace("/etc/ssl/stackkit/", f"{certs}/")
        if dest.endswith("zope.conf"):
            home = tmp_path / f"home{i}"
            (home / "client").mkdir(parents=True)
            content = content.replace("%define INSTANCEHOME /srv/zope/current", f"%define INSTANCEHOME {home}")
            content = content.replace("%define CLIENTHOME /var/lib/stackkit/plone", f"%define CLIENTHOME {home}/client")
        if dest.endswith("zeo.conf"):
            # setup creates these directories (on the data volume) before it validates zeo.conf
            for sub in ("run", "zeo/filestorage", "zeo/blobstorage"):
                (tmp_path / sub).mkdir(parents=True, exist_ok=True)
            content = content.replace("/run/zeoserver/", f"{tmp_path}/run/")
            content = content.replace("/var/lib/zeoserver/", f"{tmp_path}/zeo/")
        path = tmp_path / f"{i}-{Path(dest).name}"
        path.write_text(content)
        argv = [a.replace("{}", str(path)) for a in VALIDATORS[dest]]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        checked += 1
        if result.returncode != 0:
            failures.append(f"{stack} {command} {dest}: {' '.join(argv[:2])} exit {result.returncode}\n"
                            f"{result.stdout[-1500:]}{result.stderr[-1500:]}")
    assert failures == []
    assert checked >= 20


def test_the_validators_can_fail(tmp_path: Path) -> None:
    """A broken file must be refused by each validator, or the checks above prove nothing."""
    for tool in ("haproxy", "nginx", "varnishd"):
        _need(tool)
    broken = {
        "/etc/haproxy/haproxy.cfg": "backend plone\n    server a 10.0.0.1:8081 chek\n",
        "/etc/nginx/nginx.conf": "events {}\nhttp { server { listen 80; proxy_pas http://x; } }\n",
        "/etc/varnish/default.vcl": "vcl 4.1;\nbackend b { .host = \"127.0.0.1\"; }\nsub vcl_recv { retrun (pass); }\n",
        "/etc/stackkit/zeoserver/zeo.conf": "<zeo>\n  adress 127.0.0.1:8100\n</zeo>\n",
        "/etc/stackkit/plone/zope.conf": "%define INSTANCEHOME /tmp\ninstancehome $INSTANCEHOME\nno-such-directive on\n",
        "/etc/stackkit/plone/zope.ini": "[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:%(http_port)s\n",
    }
    for dest, content in broken.items():
        path = tmp_path / Path(dest).name
        path.write_text(content)
        argv = [a.replace("{}", str(path)) for a in VALIDATORS[dest]]
        assert subprocess.run(argv, capture_output=True, timeout=120).returncode != 0, dest


def test_every_bundle_passes_shellcheck(plans: dict, tls_stack: tuple, tmp_path: Path) -> None:
    _need("shellcheck")
    named = {**plans, "relstorage+tls": tls_stack[0]}
    files = []
    for stack, plan in named.items():
        for command, text in bundles(plan).items():
            path = tmp_path / f"{stack}--{command}.sh"
            path.write_text(text)
            files.append(str(path))
    assert len(files) >= 50
    result = subprocess.run(["shellcheck", "-s", "bash", "-S", "warning", *files], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]


def test_shellcheck_can_fail(tmp_path: Path) -> None:
    _need("shellcheck")
    path = tmp_path / "bad.sh"
    path.write_text("#!/bin/bash\nrm -rf $dir/*\n")
    assert subprocess.run(["shellcheck", "-s", "bash", "-S", "warning", str(path)], capture_output=True).returncode != 0


def _conninfo(dsn: str) -> dict[str, str]:
    """libpq's keyword/value connection string, parsed by its documented rules (PostgreSQL docs 34.1.1.1): values
    bare, or single-quoted with `\\'` and `\\\\` escapes."""
    out, i = {}, 0
    while i < len(dsn):
        m = re.compile(r"\s*(\w+)\s*=\s*").match(dsn, i)
        assert m, f"not a conninfo string at {dsn[i:]!r}"
        key, i = m.group(1), m.end()
        if dsn[i:i + 1] == "'":
            i += 1
            value = []
            while dsn[i] != "'":
                if dsn[i] == "\\":
                    i += 1
                value.append(dsn[i])
                i += 1
            i += 1
            out[key] = "".join(value)
        else:
            m = re.compile(r"\S*").match(dsn, i)
            out[key], i = m.group(0), m.end()  # type: ignore[union-attr]
    return out


@pytest.mark.parametrize("password", ["O'Br1en\\x$y%z", "S3cr3t\\pw!", "a'b''c\\\\d$$e", "p%(x)s{}#;<>|&`~"])
def test_a_database_password_reaches_relstorage_exactly(stack_files: dict[str, StackFile], tmp_path: Path,
                                                         password: str) -> None:
    """A password RDS accepts (quotes, backslashes, $, %...) goes through zope.conf (ZConfig) and the libpq dsn and
    comes back unchanged from Zope's own config loader: no character can end the value or start another key."""
    from Zope2.Startup.options import ZopeWSGIOptions

    sf = stack_files["relstorage"]
    config = copy.deepcopy(sf.config)
    config["stackkit:resources"]["databases"]["zodb"]["password"] = password
    plan = evaluate(StackFile(path=sf.path, config=config, secret_keys=sf.secret_keys, placeholders=sf.placeholders))
    confs = [files["/etc/stackkit/plone/zope.conf"] for files in staged(plan).values()
             if "/etc/stackkit/plone/zope.conf" in files]
    assert confs
    (tmp_path / "client").mkdir()
    conf = confs[0].replace("%define INSTANCEHOME /srv/zope/current", f"%define INSTANCEHOME {tmp_path}")
    conf = conf.replace("%define CLIENTHOME /var/lib/stackkit/plone", f"%define CLIENTHOME {tmp_path}/client")
    (tmp_path / "zope.conf").write_text(conf)
    storage = ZopeWSGIOptions(str(tmp_path / "zope.conf"))().configroot.databases[0].config.storage
    dsn = _conninfo(storage.config.adapter.config.dsn)
    assert dsn["password"] == password
    assert set(dsn) == {"dbname", "user", "host", "port", "password"}
