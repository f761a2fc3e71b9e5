# layers/memcached/shutdown.sh.j2 rendered for cache1-shutdown (stack relstorage)
systemctl stop memcached || true
