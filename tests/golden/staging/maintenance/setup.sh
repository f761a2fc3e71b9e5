# layers/maintenance/setup.sh.j2 rendered for stage1-setup (stack staging)
# maintenance setup: the backup volume, owned by the ZEO user; repozo and zeopack come with the zeoserver layer.
install -d -o zeo -g zeo -m 0750 /var/backups/zeoserver
