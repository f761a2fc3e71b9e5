# layers/plone/setup.sh.j2 rendered for app1-setup (stack relstorage)
# plone setup: directories, the Zope client unit, and the haproxy agent (answers "ready" until a deploy drains it).
install -d -o zope -g zope -m 0750 /var/lib/stackkit/plone /var/lib/stackkit/plone/blobcache /srv/zope
install -d -m 0755 /etc/stackkit/plone /var/lib/stackkit
[ -f /var/lib/stackkit/agent-state ] || echo ready > /var/lib/stackkit/agent-state
chmod 0644 /var/lib/stackkit/agent-state
sk_install /etc/systemd/system/zope@.service --on-change "systemctl daemon-reload"
sk_install /etc/systemd/system/stackkit-agent@.service --on-change "systemctl daemon-reload"
sk_install /etc/systemd/system/stackkit-agent.socket --on-change "systemctl daemon-reload && systemctl restart stackkit-agent.socket"
systemctl enable --now --quiet stackkit-agent.socket

# --- staged /etc/systemd/system/zope@.service (from zope@.service.j2)
# stackkit: one Zope WSGI client; the instance name is its port (zope@8081)
[Unit]
Description=Zope client on port %i (stackkit layer plone)
After=network-online.target
Wants=network-online.target
ConditionPathExists=/etc/stackkit/plone/zope.conf
ConditionPathExists=/srv/zope/current

[Service]
Type=simple
User=zope
Group=zope
EnvironmentFile=-/etc/stackkit/plone/app.env
WorkingDirectory=/srv/zope
ExecStart=/srv/zope/current/.venv/bin/runwsgi /etc/stackkit/plone/zope.ini http_port=%i
Restart=on-failure
RestartSec=2
TimeoutStopSec=30
KillSignal=SIGTERM

[Install]
WantedBy=multi-user.target

# --- staged /etc/systemd/system/stackkit-agent.socket (from stackkit-agent.socket.j2)
# stackkit: haproxy's agent-check asks here whether this instance takes traffic (ready / drain / maint)
[Unit]
Description=stackkit haproxy agent (layer plone)

[Socket]
ListenStream=8099
Accept=yes

[Install]
WantedBy=sockets.target

# --- staged /etc/systemd/system/stackkit-agent@.service (from stackkit-agent@.service.j2)
[Unit]
Description=stackkit haproxy agent answer

[Service]
ExecStart=/bin/cat /var/lib/stackkit/agent-state
StandardInput=socket
StandardOutput=socket
StandardError=journal
DynamicUser=yes
