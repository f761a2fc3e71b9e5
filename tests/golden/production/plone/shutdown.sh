# layers/plone/shutdown.sh.j2 rendered for app1-shutdown (stack production)
# plone shutdown: haproxy on the frontends no longer lists this instance (their configure ran first); stop cleanly.
echo maint > /var/lib/stackkit/agent-state
sleep 3
for unit in $(systemctl list-units --plain --no-legend 'zope@*.service' | awk '{print $1}'); do
  systemctl stop "$unit"
done
