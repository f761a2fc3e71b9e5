# layers/frontend/shutdown.sh.j2 rendered for web1-shutdown (stack relstorage)
# frontend shutdown: the load balancer has already deregistered this instance; let nginx finish its requests.
systemctl stop nginx || true
systemctl stop varnish haproxy || true
