# layers/maintenance/shutdown.sh.j2 rendered for db1-shutdown (stack production)
# maintenance shutdown: no backup may start on a host going away; release the backup volume.
systemctl disable --now --quiet stackkit-backup.timer stackkit-pack.timer || true
sk_unmount /var/backups/zeoserver
