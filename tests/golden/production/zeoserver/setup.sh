# layers/zeoserver/setup.sh.j2 rendered for db1-setup (stack production)
# zeoserver setup: ZEO in its own venv, data and blobs on the volume, config validated by ZEO's own loader.
if [ ! -x /srv/zeoserver/venv/bin/runzeo ] || \
   [ "$(/srv/zeoserver/venv/bin/pip show ZEO 2>/dev/null | awk '/^Version:/ {print $2}')" != 6.2 ]; then
  python3 -m venv /srv/zeoserver/venv
  /srv/zeoserver/venv/bin/pip install --quiet --disable-pip-version-check "ZEO=="6.2
fi
install -d -o zeo -g zeo -m 0750 /var/lib/zeoserver/filestorage /var/lib/zeoserver/blobstorage
chown zeo:zeo /var/lib/zeoserver
install -d -m 0755 /etc/stackkit/zeoserver
install -d -o zeo -g zeo -m 0755 /run/zeoserver   # the pid directory must exist for ZEO's config loader too
sk_install /etc/systemd/system/zeoserver.service --on-change "systemctl daemon-reload"
unit_changed=$SK_CHANGED
sk_install /etc/stackkit/zeoserver/zeo.conf \
  --validate "/srv/zeoserver/venv/bin/python -c 'import sys; from ZEO.runzeo import ZEOOptions; ZEOOptions().realize([\"-C\", sys.argv[1]])' {}"
if [ "$SK_CHANGED" = 1 ] || [ "$unit_changed" = 1 ]; then
  systemctl enable --quiet zeoserver
  systemctl restart zeoserver
else
  systemctl enable --now --quiet zeoserver
fi
address=10.23.77.148
for _ in $(seq 1 60); do
  (exec 3<>"/dev/tcp/$address/8100") 2>/dev/null && break
  sleep 1
done
(exec 3<>"/dev/tcp/$address/8100") 2>/dev/null || sk_die "ZEO did not listen on $address:8100"

# --- staged /etc/stackkit/zeoserver/zeo.conf (from zeo.conf.j2)
# stackkit: generated for db1 by layers/zeoserver/zeo.conf.j2
<zeo>
  address 10.23.77.148:8100
  read-only false
  invalidation-queue-size 1000
  pid-filename /run/zeoserver/zeoserver.pid
</zeo>

<filestorage 1>
  path /var/lib/zeoserver/filestorage/Data.fs
  blob-dir /var/lib/zeoserver/blobstorage
</filestorage>

<eventlog>
  level info
  <logfile>
    path STDOUT
    format %(asctime)s %(message)s
  </logfile>
</eventlog>

# --- staged /etc/systemd/system/zeoserver.service (from zeoserver.service.j2)
# stackkit: the ZEO server (layer zeoserver); data on the EBS volume mounted at /var/lib/zeoserver
[Unit]
Description=ZEO server (stackkit layer zeoserver)
After=network-online.target var-lib-zeoserver.mount
Wants=network-online.target
RequiresMountsFor=/var/lib/zeoserver

[Service]
Type=simple
User=zeo
Group=zeo
RuntimeDirectory=zeoserver
ExecStart=/srv/zeoserver/venv/bin/runzeo -C /etc/stackkit/zeoserver/zeo.conf
Restart=on-failure
RestartSec=2
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
