#!/bin/bash
# The stand-in host of tests/adversarial: runs inside `unshare --user --map-root-user --mount --net --pid --fork` as an
# unprivileged user. usage: sandbox.sh CASE_DIR TOOLS_DIR
#   CASE_DIR/plan: one step a line: `run BUNDLE_FILE EVENT`, `exec SCRIPT` (run a script the bundles installed, if they
#   did), `snapshot NAME` (copy the written files to CASE_DIR/NAME); CASE_DIR/start, if there: a snapshot to start from
#   TOOLS_DIR/bin: the only PATH (stubs and the real file tools, host.yaml); TOOLS_DIR/absolute, TOOLS_DIR/devices: lists
# Writes under /etc /srv /var /usr /run /opt /tmp land in CASE_DIR/upper/<dir>; outputs in CASE_DIR/out.
set -u
case_dir=$1 tools=$2
mount --bind "$case_dir" /mnt || exit 90
for d in etc srv var usr run opt tmp; do
  mkdir -p "/mnt/upper/$d" "/mnt/work/$d" || exit 91
done
[ -e /mnt/start ] && { cp -a "$(cat /mnt/start)/." /mnt/upper/ || exit 91; }
while read -r path; do mkdir -p "/mnt/upper$path" || exit 91; done < "$tools/writable"
while read -r path; do [ -e "/mnt/upper$path" ] || cp "$path" "/mnt/upper$path" || exit 91; done < "$tools/copied"
for d in etc srv var usr run opt tmp; do
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=/mnt/upper/$d,workdir=/mnt/work/$d" "/$d" || exit 92
done
while read -r path; do mkdir -p "/mnt/upper$path" && mount --bind "/mnt/upper$path" "$path" || exit 92; done < "$tools/fresh"
mkdir -p /mnt/out /mnt/devices

# the instances' private addresses (10.0.0.0/8) are this host, so a script's /dev/tcp probe reaches the listener below
/usr/sbin/ip link set lo up && /usr/sbin/ip route add local 10.0.0.0/8 dev lo table local || exit 93

mkdir -p /etc/stackkit/local-devices
while read -r dev; do
  mkdir -p "/mnt/devices/$dev" && ln -sfn "/mnt/devices/$dev" "/etc/stackkit/local-devices/$dev"
done < "$tools/devices"
while read -r path; do
  mkdir -p "${path%/*}" && ln -sfn "$tools/bin/stub" "$path"
done < "$tools/absolute"

if grep -qs '/8100' /mnt/*.sh; then
  # the ZEO server a zeoserver setup waits for
  /usr/bin/python3 -c 'import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8100)); s.listen(64)
while True: s.accept()[0].close()' &
  for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/8100) 2>/dev/null && break; /usr/bin/sleep 0.01; done
fi

cd /tmp || exit 94
n=0
sk_env=(env -i PATH="$tools/bin" HOME=/root LANG=C.UTF-8 SK_MARKER=/tmp/SKPWNED-env SK_LOG=/mnt/out/calls)
while read -r kind arg event; do
  case $kind in
    snapshot) cp -a /mnt/upper "/mnt/$arg" 2>/dev/null; continue ;;
    exec) [ -x "$arg" ] || continue ;;
  esac
  n=$((n + 1))
  if [ "$kind" = exec ]; then
    "${sk_env[@]}" bash "$arg" < /dev/null > "/mnt/out/$n.stdout" 2> "/mnt/out/$n.stderr"
  else
    "${sk_env[@]}" bash -s "$event" < "/mnt/$arg" > "/mnt/out/$n.stdout" 2> "/mnt/out/$n.stderr"
  fi
  echo "$n $arg ${event:--} $?" >> /mnt/out/steps
done < /mnt/plan
exit 0
