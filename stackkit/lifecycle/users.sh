#!/usr/bin/env bash
# shellcheck shell=bash
# stackkit users step: per-user SSH access and sudo (stackkit:users; docs/design.md, "The users step").
# The bundle stages each user's key in $SK_USERS_STAGED/<name>.pub and calls `sk_users NAME SUDO ...`: the instance then
# has exactly these users active; every other user stackkit created here is locked (home kept). The accounts stackkit
# created are listed in /etc/stackkit/users.json ({"managed": [...], "active": [...]}); an account it did not create
# (the deploy user, root, a package's or a layer's user) is never touched.
set -euo pipefail

SK_USERS_STAGED=/etc/stackkit/users.staged
SK_USERS_STATE=/etc/stackkit/users.json
SK_USERS_NAME='^[a-z_][a-z0-9_-]{0,31}$'
SK_USERS_MANAGED=()

# sk_users_read KEY: the names listed under KEY in users.json, one a line (nothing before the first run)
sk_users_read() {
  [ -f "$SK_USERS_STATE" ] || return 0
  python3 -c 'import json, sys; [print(n) for n in json.load(open(sys.argv[1])).get(sys.argv[2], [])]' \
    "$SK_USERS_STATE" "$1"
}

# sk_users_save ACTIVE...: write users.json (every name matched SK_USERS_NAME: plain JSON strings)
sk_users_save() {
  local managed="" active=""
  [ "${#SK_USERS_MANAGED[@]}" -eq 0 ] || managed=$(printf '"%s",' "${SK_USERS_MANAGED[@]}")
  [ "$#" -eq 0 ] || active=$(printf '"%s",' "$@")
  printf '{"managed": [%s], "active": [%s]}\n' "${managed%,}" "${active%,}" > "$SK_USERS_STATE.sk-new"
  chmod 0600 "$SK_USERS_STATE.sk-new"
  mv -f "$SK_USERS_STATE.sk-new" "$SK_USERS_STATE"
}

sk_users_is_managed() {
  local m
  for m in "${SK_USERS_MANAGED[@]}"; do [ "$m" = "$1" ] && return 0; done
  return 1
}

# sk_as_user NAME CMD...: run CMD with the user's ids and groups (setpriv: no PAM, so also for a locked account)
sk_as_user() {
  local name=$1
  shift
  setpriv --reuid="$(id -u -- "$name")" --regid="$(id -g -- "$name")" --init-groups -- "$@"
}

# sk_user_home NAME: the user's home directory
sk_user_home() {
  getent passwd -- "$1" | cut -d: -f6
}

# sk_user NAME SUDO(0|1): create NAME if missing (or take back a locked one), install its key, grant or revoke sudo
sk_user() {
  local name=$1 sudo=$2 key="$SK_USERS_STAGED/$1.pub" rule="$SK_USERS_STAGED/$1.sudoers" home previous=()
  [[ $name =~ $SK_USERS_NAME ]] || sk_die "users: '$name' is not a user name stackkit manages"
  if [ "$name" = root ] || [ "$name" = "${SUDO_USER:-root}" ]; then
    sk_die "users: $name is the deploy user or root; its access is never managed by the users step"
  fi
  ssh-keygen -l -f "$key" >/dev/null \
    || sk_die "users: the key of $name is not an OpenSSH public key (ssh-keygen -l -f); $name is unchanged"
  if id -u -- "$name" >/dev/null 2>&1; then
    sk_users_is_managed "$name" \
      || sk_die "users: an account $name exists on this instance and stackkit did not create it; it is left alone: pick another name"
  else
    sk_log "users: creating $name"
    useradd --create-home --shell /bin/bash -- "$name"
    SK_USERS_MANAGED+=("$name")
    # recorded at once: a later failure must not leave an account stackkit would then refuse as not its own
    mapfile -t previous < <(sk_users_read active)
    sk_users_save "${previous[@]}"
  fi
  # a user locked by an earlier removal comes back (the password stays locked: access is by key only)
  usermod --expiredate '' --shell /bin/bash -- "$name"
  home=$(sk_user_home "$name")
  # written as the user: a symlink planted in the home leads nowhere the user could not write anyway
  sk_as_user "$name" install -d -m 0700 -- "$home/.ssh"
  # shellcheck disable=SC2016  # $1 is the inner shell's
  sk_as_user "$name" sh -c 'umask 077 && cat > "$1.sk-new" && chmod 0600 "$1.sk-new" && mv -f "$1.sk-new" "$1"' \
    sh "$home/.ssh/authorized_keys" < "$key"
  if [ "$sudo" = 1 ]; then
    printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$name" > "$rule"
    visudo -cqf "$rule" || sk_die "users: the sudoers rule of $name fails visudo -cf; nothing installed"
    install -m 0440 -o root -g root "$rule" "/etc/sudoers.d/stackkit-$name"
  else
    rm -f -- "/etc/sudoers.d/stackkit-$name"
  fi
}

# sk_user_lock NAME: a removed user: keys and sudo removed, account locked and expired, shell nologin, home kept
sk_user_lock() {
  local name=$1 home
  id -u -- "$name" >/dev/null 2>&1 || return 0
  sk_log "users: locking $name"
  rm -f -- "/etc/sudoers.d/stackkit-$name"
  home=$(sk_user_home "$name")
  sk_as_user "$name" rm -f -- "$home/.ssh/authorized_keys"
  usermod --lock --expiredate 1 --shell /usr/sbin/nologin -- "$name"
  pkill -KILL -u "$name" || true
}

# sk_deploy_keys NAME: the deploy user's authorized_keys become exactly the staged deploy.<n>.pub keys (the stack's
# SSH key and stack.ssh_authorized_keys), each checked by ssh-keygen first; written as the user, replaced whole. Never
# empty: an instance no key reaches is lost to every later command.
sk_deploy_keys() {
  local name=$1 home key keys=()
  id -u -- "$name" >/dev/null 2>&1 || sk_die "users: the deploy user $name does not exist here"
  for key in "$SK_USERS_STAGED"/deploy.*.pub; do
    [ -f "$key" ] || continue
    ssh-keygen -l -f "$key" >/dev/null \
      || sk_die "users: a key of the deploy user $name is not an OpenSSH public key (ssh-keygen -l -f); nothing changed"
    keys+=("$key")
  done
  [ "${#keys[@]}" -gt 0 ] || sk_die "users: no key for the deploy user $name: refusing to lock every command out"
  home=$(sk_user_home "$name")
  sk_as_user "$name" install -d -m 0700 -- "$home/.ssh"
  # shellcheck disable=SC2016  # $1 is the inner shell's
  cat "${keys[@]}" | sk_as_user "$name" sh -c 'umask 077 && cat > "$1.sk-new" && chmod 0600 "$1.sk-new" && mv -f "$1.sk-new" "$1"' \
    sh "$home/.ssh/authorized_keys"
  sk_log "users: $name has ${#keys[@]} authorized key(s)"
}

# sk_users [NAME SUDO]...: exactly these users active on this instance; every other user stackkit created is locked
# shellcheck disable=SC2120  # with no user left on the instance it is called with none
sk_users() {
  local active=() before=() name
  declare -A want=()
  mapfile -t SK_USERS_MANAGED < <(sk_users_read managed)
  mapfile -t before < <(sk_users_read active)
  while [ "$#" -gt 0 ]; do
    sk_user "$1" "$2"
    want[$1]=1
    active+=("$1")
    shift 2
  done
  # the users active until now and not any more (a failed lock leaves them active: the next run locks them again)
  for name in "${before[@]}"; do
    [ -n "${want[$name]:-}" ] || sk_user_lock "$name"
  done
  sk_users_save "${active[@]}"
  rm -rf "$SK_USERS_STAGED"
}
