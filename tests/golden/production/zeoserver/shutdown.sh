# layers/zeoserver/shutdown.sh.j2 rendered for db1-shutdown (stack production)
# zeoserver shutdown: stop ZEO cleanly (it closes Data.fs), then release the volume before it is detached.
systemctl stop zeoserver || true
sk_unmount /var/lib/zeoserver
