# layers/plone/deploy.sh.j2 rendered for app1-deploy-site (stack production)
# plone deploy of site: fetch the revision into its own release, build it, switch `current`, and restart the
# clients one by one while haproxy drains this instance (agent-check). A revision already built is only switched to.
app_root=/srv/apps/site
release="$app_root/releases/v1.0.0"
install -d -o zope -g zope "$app_root" "$app_root/releases"
if [ ! -f "$release/.stackkit-built" ]; then
  sk_log "building site at v1.0.0"
  rm -rf "$release"
  install -d -o zope -g zope "$release"
  sudo -u zope git -C "$release" init --quiet
  sudo -u zope git -C "$release" fetch --quiet --depth 1 https://github.com/example/plone-site.git v1.0.0
  sudo -u zope git -C "$release" checkout --quiet FETCH_HEAD
  sudo -u zope python3 -m venv "$release/.venv"
  sudo -u zope "$release/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$release/requirements.txt"
  sudo -u zope touch "$release/.stackkit-built"
fi

# the app's environment (secret values included): read by the clients' unit, root only
sk_put /etc/stackkit/plone/app.env.new 0600 <<'SK_ENV'
PLONE_SITE_ID="Plone"
ADMIN_PASSWORD="sk-secret-b208face1df885f87c74"
SK_ENV
changed=0
if ! cmp -s /etc/stackkit/plone/app.env.new /etc/stackkit/plone/app.env; then
  mv -f /etc/stackkit/plone/app.env.new /etc/stackkit/plone/app.env
  changed=1
else
  rm -f /etc/stackkit/plone/app.env.new
fi
if [ "$(readlink -f "$app_root/current" || true)" != "$(readlink -f "$release")" ]; then
  ln -sfn "$release" "$app_root/current.new" && mv -Tf "$app_root/current.new" "$app_root/current"
  changed=1
fi
ln -sfn "$app_root/current" /srv/zope/current

# restart only running, configured clients (a new instance's clients start in configure, once the ZEO server is known)
mapfile -t running < <(systemctl list-units --state=running --plain --no-legend 'zope@*.service' | awk '{print $1}')
if [ "$changed" = 1 ] && [ "${#running[@]}" -gt 0 ]; then
  echo drain > /var/lib/stackkit/agent-state
  sleep 3
  for unit in "${running[@]}"; do
    port=${unit#zope@}; port=${port%.service}
    systemctl restart "$unit"
    sk_wait_http "http://127.0.0.1:$port/" 180 499
  done
  echo ready > /var/lib/stackkit/agent-state
  sleep 3
fi

# keep the newest 5 releases (and always the current one)
current=$(readlink -f "$app_root/current")
find "$app_root/releases" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +6 \
  | cut -d' ' -f2- | while read -r old; do [ "$old" = "$current" ] || rm -rf "$old"; done
