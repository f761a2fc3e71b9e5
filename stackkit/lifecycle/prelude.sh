#!/usr/bin/env bash
# shellcheck shell=bash
# stackkit prelude: the functions every lifecycle bundle and layer script may use (docs/design.md: bundles).
# Each is idempotent: running a script twice changes nothing the second time.
set -euo pipefail

SK_STAGED=/etc/stackkit/staged
# shellcheck disable=SC2034  # read by layer scripts: 1 after sk_install replaced a file
SK_CHANGED=0
export DEBIAN_FRONTEND=noninteractive

# sk_log MESSAGE...: a progress line on stderr (stdout is the command's output)
sk_log() {
  printf 'stackkit[%s]: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

# sk_die MESSAGE...: fail with a message naming what to fix
sk_die() {
  printf 'stackkit: ERROR: %s\n' "$*" >&2
  exit 1
}

# sk_packages PKG...: install the Debian packages that are missing (nothing if all are there)
sk_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  sk_log "installing ${missing[*]}"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -n1)" ]; then
    apt-get update -qq
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# sk_install DEST [--mode M] [--owner U:G] [--validate 'CMD {}'] [--on-change 'CMD']
#   Install the staged copy of DEST (/etc/stackkit/staged/DEST, written by the bundle): validate it first ({} is the
#   staged path), replace DEST only if it differs, then run the on-change command. Sets SK_CHANGED=1 when it installed.
sk_install() {
  local dest=$1 mode=0644 owner=root:root validate="" on_change=""
  shift
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --mode) mode=$2; shift 2 ;;
      --owner) owner=$2; shift 2 ;;
      --validate) validate=$2; shift 2 ;;
      --on-change) on_change=$2; shift 2 ;;
      *) sk_die "sk_install: unknown option $1" ;;
    esac
  done
  local staged="$SK_STAGED$dest" out
  [ -f "$staged" ] || sk_die "sk_install: nothing staged for $dest (is it in the layer's templates for this event?)"
  if [ -n "$validate" ]; then
    local cmd=${validate//\{\}/$staged}
    if ! out=$(bash -c "$cmd" 2>&1); then
      printf '%s\n' "$out" >&2
      sk_die "$dest: the new file fails validation ($validate); the running config is unchanged"
    fi
  fi
  # shellcheck disable=SC2034
  SK_CHANGED=0
  if [ -f "$dest" ] && cmp -s "$staged" "$dest" \
     && [ "$(stat -c '%a %U:%G' "$dest")" = "$(printf '%o' "$((8#$mode))") $owner" ]; then
    return 0
  fi
  install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$staged" "$dest"
  # shellcheck disable=SC2034
  SK_CHANGED=1
  sk_log "installed $dest"
  if [ -n "$on_change" ]; then
    bash -c "$on_change"
  fi
}

# sk_device HINT [VOLUME_ID]: the block device of an attached volume. On AWS a volume attached as /dev/xvdf shows up as
# /dev/xvdf or, on Nitro instances, as an NVMe device whose by-id name holds the volume id. On `stackkit local` machines a
# volume is a directory named by /etc/stackkit/local-devices/<hint>. Waits up to 120 s for it to appear.
sk_device() {
  local hint=$1 volume_id=${2:-} i
  for i in $(seq 1 120); do
    if [ -e "/etc/stackkit/local-devices/${hint##*/}" ]; then
      readlink -f "/etc/stackkit/local-devices/${hint##*/}"; return 0
    fi
    if [ -b "$hint" ]; then echo "$hint"; return 0; fi
    if [ -n "$volume_id" ] && [ -e "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume_id//-/}" ]; then
      readlink -f "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume_id//-/}"; return 0
    fi
    [ "$i" -eq 1 ] && sk_log "waiting for volume $hint ${volume_id}"
    sleep 1
  done
  sk_die "volume $hint ($volume_id) is not attached after 120 s; check the instance's volume attachments"
}

# sk_resolvable NAME [HOSTS_FILE]: the instance's hostname NAME resolves. EC2's DNS knows only the ip-... name, and
# cloud-init leaves /etc/hosts alone by default: sudo and the daemons look the hostname up (sudo says "unable to
# resolve host" on every call). NAME goes on the 127.0.1.1 line (Debian's convention) unless a line has it already.
sk_resolvable() {
  local name=$1 hosts=${2:-/etc/hosts} tmp
  if awk -v n="$name" '$1 !~ /^#/ { for (i = 2; i <= NF; i++) if ($i == n) found = 1 } END { exit !found }' "$hosts"; then
    return 0
  fi
  tmp=$(mktemp)
  awk '$1 != "127.0.1.1"' "$hosts" > "$tmp"
  printf '127.0.1.1 %s\n' "$name" >> "$tmp"
  cat "$tmp" > "$hosts"     # in place: a container's /etc/hosts may be a bind mount
  rm -f "$tmp"
}

# sk_mount HINT MOUNT_POINT FS [VOLUME_ID]: format the volume if it is blank (never otherwise), mount it, persist it.
sk_mount() {
  local hint=$1 mnt=$2 fs=$3 volume_id=${4:-} dev
  if mountpoint -q "$mnt"; then
    return 0
  fi
  dev=$(sk_device "$hint" "$volume_id")
  install -d -m 0755 "$mnt"
  if [ -d "$dev" ]; then
    # a local machine: the volume is a directory on the host, bound into the machine
    mount --bind "$dev" "$mnt"
    grep -qs " $mnt none bind" /etc/fstab || echo "$dev $mnt none bind 0 0" >> /etc/fstab
    return 0
  fi
  # blkid -p: 0 = a signature was found, 2 = nothing found (blank); anything else (4 usage, 8 ambiguous signatures,
  # an I/O error) must never lead to mkfs on a volume that may hold data
  local probe=0
  blkid -p "$dev" >/dev/null 2>&1 || probe=$?
  case "$probe" in
    0) ;;
    2)
      sk_log "formatting blank volume $dev as $fs"
      "mkfs.$fs" -q "$dev"
      ;;
    *) sk_die "blkid -p $dev failed (exit $probe): not formatting a volume that may hold data; inspect it by hand" ;;
  esac
  local uuid
  uuid=$(blkid -s UUID -o value "$dev")
  grep -qs "UUID=$uuid " /etc/fstab || echo "UUID=$uuid $mnt $fs defaults,nofail 0 2" >> /etc/fstab
  mount "$mnt"
}

# sk_unmount MOUNT_POINT: stop using a volume before it is detached (shutdown)
sk_unmount() {
  local mnt=$1
  if mountpoint -q "$mnt"; then
    sync
    umount "$mnt" || sk_log "could not unmount $mnt (in use); the detach will stop the instance first"
  fi
}

# sk_wait_http URL [TIMEOUT_SECONDS] [MAX_STATUS]: wait until URL answers with a status up to MAX_STATUS (399)
sk_wait_http() {
  local url=$1 timeout=${2:-120} max=${3:-399} i code
  for i in $(seq 1 "$timeout"); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)
    if [ "${code:-000}" != 000 ] && [ "$code" -le "$max" ]; then
      return 0
    fi
    [ "$i" -eq 1 ] && sk_log "waiting for $url"
    sleep 1
  done
  sk_die "$url did not answer within ${timeout}s"
}

# sk_unit NAME: reload systemd if a unit file changed, then enable NAME
sk_unit() {
  systemctl daemon-reload
  systemctl enable --quiet "$1"
}
