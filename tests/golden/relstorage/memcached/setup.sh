# layers/memcached/setup.sh.j2 rendered for cache1-setup (stack relstorage)
# memcached setup: listen on the private address only, restart when the config changed.
sk_install /etc/memcached.conf --on-change "systemctl restart memcached"
systemctl enable --now --quiet memcached

# --- staged /etc/memcached.conf (from memcached.conf.j2)
# stackkit: generated for cache1 by layers/memcached/memcached.conf.j2
-d
logfile /var/log/memcached.log
-m 256
-p 11211
-u memcache
-l 10.72.243.230
-c 1024
-P /var/run/memcached/memcached.pid
