# layers/frontend/setup.sh.j2 rendered for stage1-setup (stack staging)
# frontend setup: varnish on loopback; services enabled. Their configs come with configure, when the backends are known.
sk_install /etc/systemd/system/varnish.service.d/stackkit.conf --on-change "systemctl daemon-reload && systemctl restart varnish"
systemctl enable --quiet nginx varnish haproxy
install -d -m 0755 /etc/ssl/stackkit

# --- staged /etc/systemd/system/varnish.service.d/stackkit.conf (from varnish.service.j2)
# stackkit: varnish listens on loopback only; nginx is the only client
[Service]
ExecStart=
ExecStart=/usr/sbin/varnishd -j unix,user=vcache -F -a 127.0.0.1:6081 -T 127.0.0.1:6082 -f /etc/varnish/default.vcl -S /etc/varnish/secret -s malloc,256m
