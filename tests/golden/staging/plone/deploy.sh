# layers/plone/deploy.sh.j2 rendered for stage1-deploy-site (stack staging)
# plone deploy of site: fetch the revision into its own release (named by its commit, so a branch deploys
# its newest commit each time deploy runs), build it, switch `current`, and restart the clients one by one while
# haproxy drains this instance (agent-check). A commit already built is only switched to.
# Every '{{ … }}' here is shell-quoted by the renderer: never put one inside "…".
app_root=/srv/apps/site
install -d -o zope -g zope "$app_root" "$app_root/releases"
src_url=https://github.com/example/plone-site.git
src_rev=main
cache="$app_root/repository.git"
[ -d "$cache" ] || sudo -u zope git init --quiet --bare "$cache"
sudo -u zope git -C "$cache" fetch --quiet --depth 1 --force -- "$src_url" "$src_rev"
commit=$(sudo -u zope git -C "$cache" rev-parse --verify 'FETCH_HEAD^{commit}')
release="$app_root/releases/$commit"
if [ ! -f "$release/.stackkit-built" ]; then
  sk_log building app site "at ${release##*/}"
  rm -rf "$release"
  install -d -o zope -g zope "$release"
  sudo -u zope git -C "$cache" archive --format=tar "$commit" | sudo -u zope tar -x -C "$release"
  sudo -u zope python3 -m venv "$release/.venv"
  requirements=requirements.txt
  sudo -u zope "$release/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$release/$requirements"
  sudo -u zope touch "$release/.stackkit-built"
fi

# the app's environment (secret values included): staged by the bundle (plone/app.env.j2), read by the clients' unit
changed=0
sk_install /etc/stackkit/plone/app.env --mode 0600
[ "$SK_CHANGED" = 0 ] || changed=1
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

# keep the newest releases (attribute plone.keep_releases; always the current one)
current=$(readlink -f "$app_root/current")
keep=5
find "$app_root/releases" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +$((keep + 1)) \
  | cut -d' ' -f2- | while read -r old; do [ "$old" = "$current" ] || rm -rf "$old"; done

# --- staged /etc/stackkit/plone/app.env (from app.env.j2)
# stackkit: the environment of app site for the Zope clients (systemd EnvironmentFile, values escaped for it)
PLONE_SITE_ID="Plone"
ADMIN_PASSWORD="sk-secret-b208face1df885f87c74"
