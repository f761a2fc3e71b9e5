# layers/plone/undeploy.sh.j2 rendered for app1-deploy-site (stack production)
# plone undeploy of site: take the instance out of haproxy, stop and disable its clients, remove the code.
# The data stays where it lives (the ZEO server or the database).
echo maint > /var/lib/stackkit/agent-state
sleep 3
for unit in $(systemctl list-units --all --plain --no-legend 'zope@*.service' | awk '{print $1}'); do
  systemctl disable --now --quiet "$unit"
done
if [ "$(readlink /srv/zope/current || true)" = /srv/apps/site/current ]; then
  rm -f /srv/zope/current
fi
rm -rf /srv/apps/site
rm -f /etc/stackkit/plone/app.env
