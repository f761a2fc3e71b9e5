# layers/zeoserver/shutdown.sh.j2 rendered for stage1-shutdown (stack staging)
# zeoserver shutdown: stop ZEO cleanly (it closes Data.fs), then release the volume before it is detached.
systemctl stop zeoserver || true
sk_unmount /var/lib/zeoserver
