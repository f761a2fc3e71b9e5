# layers/maintenance/configure.sh.j2 rendered for db1-configure (stack production)
# maintenance configure: the backup script and the timers (the pack follows the zeoserver's address).
sk_install /usr/local/sbin/stackkit-backup --mode 0755 --validate "bash -n {}"
sk_install /etc/systemd/system/stackkit-backup.service
sk_install /etc/systemd/system/stackkit-backup.timer
sk_install /etc/systemd/system/stackkit-pack.service
sk_install /etc/systemd/system/stackkit-pack.timer
systemctl daemon-reload
systemctl enable --now --quiet stackkit-backup.timer stackkit-pack.timer

# --- staged /usr/local/sbin/stackkit-backup (from stackkit-backup.j2)
#!/usr/bin/env bash
# stackkit: generated for db1 by layers/maintenance/stackkit-backup.j2
# Back up the ZODB with repozo (full on Sundays and when there is none yet, incremental otherwise) and its blobs,
# then keep 14 days.
set -euo pipefail
dest=/var/backups/zeoserver
install -d -o zeo -g zeo -m 0750 "$dest/filestorage" "$dest/blobstorage"
full=()
if [ "$(date +%u)" = 7 ] || ! compgen -G "$dest/filestorage/*.fsz" >/dev/null; then full=(--full); fi
sudo -u zeo /srv/zeoserver/venv/bin/repozo --backup "${full[@]}" --gzip --quick \
  -f /var/lib/zeoserver/filestorage/Data.fs -r "$dest/filestorage"
sudo -u zeo tar -czf "$dest/blobstorage/blobs-$(date -u +%Y%m%dT%H%M%S).tar.gz" -C /var/lib/zeoserver blobstorage
find "$dest" -type f -mtime +14 -delete
echo "stackkit-backup: done $(date -u +%FT%TZ)"

# --- staged /etc/systemd/system/stackkit-backup.service (from stackkit-backup.service.j2)
[Unit]
Description=stackkit: back up the ZODB (layer maintenance)
RequiresMountsFor=/var/backups/zeoserver /var/lib/zeoserver

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/stackkit-backup

# --- staged /etc/systemd/system/stackkit-backup.timer (from stackkit-backup.timer.j2)
[Unit]
Description=stackkit: nightly ZODB backup

[Timer]
OnCalendar=*-*-* 02:30:00
Persistent=true
RandomizedDelaySec=600

[Install]
WantedBy=timers.target

# --- staged /etc/systemd/system/stackkit-pack.service (from stackkit-pack.service.j2)
[Unit]
Description=stackkit: pack the ZODB, keeping 7 days (layer maintenance)

[Service]
Type=oneshot
ExecStart=/srv/zeoserver/venv/bin/zeopack -d 7 10.23.77.148:8100

# --- staged /etc/systemd/system/stackkit-pack.timer (from stackkit-pack.timer.j2)
[Unit]
Description=stackkit: weekly ZODB pack

[Timer]
OnCalendar=Sun *-*-* 04:00:00
Persistent=true

[Install]
WantedBy=timers.target
