# layers/plone/configure.sh.j2 rendered for stage1-configure (stack staging)
# plone configure: write zope.conf (ZEO server / RelStorage from the cluster state) and restart the clients only if it
# changed; start the clients this instance should run and stop any beyond that count.
sk_install /etc/stackkit/plone/zope.ini
ini_changed=$SK_CHANGED
validate=""
if [ -x /srv/zope/current/.venv/bin/python ]; then
  validate="/srv/zope/current/.venv/bin/python -c 'import sys; from Zope2.Startup.options import ZopeWSGIOptions; ZopeWSGIOptions(sys.argv[1])()' {}"
fi
sk_install /etc/stackkit/plone/zope.conf --mode 0640 --owner root:zope --validate "$validate"
conf_changed=$SK_CHANGED
if [ ! -e /srv/zope/current ]; then
  sk_log "no app deployed yet: the clients start after the first deploy"
  return 0
fi
wanted=(8081 8082 )
echo drain > /var/lib/stackkit/agent-state
for port in "${wanted[@]}"; do
  systemctl enable --quiet "zope@$port"
  if [ "$conf_changed" = 1 ] || [ "$ini_changed" = 1 ]; then
    systemctl restart "zope@$port"
  else
    systemctl start "zope@$port"
  fi
  sk_wait_http "http://127.0.0.1:$port/" 180 499
done
for unit in $(systemctl list-units --all --plain --no-legend 'zope@*.service' | awk '{print $1}'); do
  port=${unit#zope@}; port=${port%.service}
  case " ${wanted[*]} " in *" $port "*) ;; *) systemctl disable --now --quiet "$unit" ;; esac
done
echo ready > /var/lib/stackkit/agent-state
# drained from haproxy whenever the machine stops (a schedule, the scaling function, a reboot): after the clients' units
sk_install /etc/systemd/system/stackkit-drain.service --on-change "systemctl daemon-reload"
systemctl enable --now --quiet stackkit-drain.service
# the Zope admin user, once (its password is the app's secret ADMIN_PASSWORD)
if [ ! -f /var/lib/stackkit/plone/.admin-user ]; then
  if printf '%s\n' sk-secret-b208face1df885f87c74 | sudo -u zope /srv/zope/current/.venv/bin/python -c '
import sys
from Zope2.Startup.run import configure_wsgi
configure_wsgi("/etc/stackkit/plone/zope.conf")
import Zope2, transaction
app = Zope2.app()
if "admin" not in app.acl_users.getUserNames():
    app.acl_users._doAddUser("admin", sys.stdin.readline().strip(), ["Manager"], [])
    transaction.commit()
'; then
    touch /var/lib/stackkit/plone/.admin-user
  else
    sk_log "could not add the admin user yet (another client may be adding it); configure will try again"
  fi
fi

# --- staged /etc/stackkit/plone/zope.conf (from zope.conf.j2)
# stackkit: generated for stage1 by layers/plone/zope.conf.j2 — edits are overwritten by configure
%define INSTANCEHOME /srv/zope/current
instancehome $INSTANCEHOME
%define CLIENTHOME /var/lib/stackkit/plone
clienthome $CLIENTHOME
debug-mode off
security-policy-implementation C
verbose-security off
default-zpublisher-encoding utf-8
<zodb_db main>
    mount-point /
    cache-size 30000
    <zeoclient>
        server 10.67.84.23:8100
        storage 1
        name zeostorage
        var $CLIENTHOME
        cache-size 128MB
        blob-dir $CLIENTHOME/blobcache
        shared-blob-dir off
    </zeoclient>
</zodb_db>

# --- staged /etc/stackkit/plone/zope.ini (from zope.ini.j2)
# stackkit: generated for stage1 by layers/plone/zope.ini.j2; the port comes from the unit (http_port=%i)
[app:zope]
use = egg:Zope#main
zope_conf = /etc/stackkit/plone/zope.conf

[pipeline:main]
pipeline =
    egg:Zope#httpexceptions
    zope

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:%(http_port)s 10.67.84.23:%(http_port)s
threads = 2
clear_untrusted_proxy_headers = false

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = INFO
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %%(asctime)s %%(levelname)-7.7s [%%(name)s] %%(message)s

# --- staged /etc/systemd/system/stackkit-drain.service (from stackkit-drain.service.j2)
# stackkit: generated for stage1 by layers/plone/stackkit-drain.service.j2 — edits are overwritten by configure
# Before the machine stops (an EC2 stop by a schedule or the scaling function, a reboot), haproxy drains its Zope
# clients: stopped after them (ordered after them, so stopped before them), it answers haproxy's agent "drain", waits,
# and only then do the clients stop. At boot it takes back only its own "drain" (a deploy's maint stays).
[Unit]
Description=stackkit: drain this instance from haproxy before its Zope clients stop
Wants=network-online.target
After=network-online.target stackkit-agent.socket zope@8081.service zope@8082.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'if [ "$(cat /var/lib/stackkit/agent-state)" = drain ]; then echo ready > /var/lib/stackkit/agent-state; fi'
ExecStop=/bin/sh -c 'if [ "$(cat /var/lib/stackkit/agent-state)" = ready ]; then echo drain > /var/lib/stackkit/agent-state; sleep 3; fi'
TimeoutStopSec=33

[Install]
WantedBy=multi-user.target
