# layers/frontend/shutdown.sh.j2 rendered for stage1-shutdown (stack staging)
# frontend shutdown: the load balancer has already deregistered this instance; let nginx finish its requests.
systemctl stop nginx || true
systemctl stop varnish haproxy || true
