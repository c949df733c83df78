#!/usr/bin/env bash
# A second, separate offline Dagger engine for the benchmarks: its own state
# directory, socket, container network and DNS, next to the machine's shared
# engine (../shared/dagger-offline), which it never touches. It reuses what
# is read-only there: the built binaries, the image mirror registry and the
# Go SDK runtime image. So a bench can start a really empty engine (a new
# state, not a prune), and start a new engine process on a restored state.
#
#   bench/engine.sh start STATE_DIR   start an engine on STATE_DIR (created
#                                     if absent); prints the runner host to
#                                     export as _EXPERIMENTAL_DAGGER_RUNNER_HOST
#   bench/engine.sh stop              prune by the GC policy, then stop it
#                                     (SIGTERM, so its databases are closed)
#
# Settings: BENCH_ENGINE_RUN (socket and pid, default /run/stevedore-bench),
# BENCH_NET_NAME / BENCH_NET_CIDR (default dgbench / 10.91.0.0/16, must differ
# from the shared engine's), ENGINE_STATE_LIMIT and ENGINE_STATE_SELF_CACHES
# (the GC settings, as scripts/engine-state gives them), DAGGER_OFFLINE_CACHE / DAGGER_OFFLINE_STATE / DAGGER_OFFLINE_REGISTRY (where
# the shared engine's binaries, Go SDK image and mirror are). Needs root.
set -euo pipefail

version=v0.19.10
bin=${DAGGER_OFFLINE_CACHE:-/var/cache/dagger-offline}/$version/bin
shared=${DAGGER_OFFLINE_STATE:-/var/lib/dagger-offline}
reg=${DAGGER_OFFLINE_REGISTRY:-127.0.0.1:5000}
run=${BENCH_ENGINE_RUN:-/run/stevedore-bench}
net=${BENCH_NET_NAME:-dgbench}
cidr=${BENCH_NET_CIDR:-10.91.0.0/16}
limit=${ENGINE_STATE_LIMIT:-6G}
sock=$run/engine.sock
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "bench/engine.sh: $*" >&2; exit 1; }

running() {
  local pid
  [[ -s $run/engine.pid ]] || return 1
  pid=$(cat "$run/engine.pid")
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$bin/dagger-engine" ]]
}

answers() {
  (cd / && _EXPERIMENTAL_DAGGER_RUNNER_HOST=unix://$sock timeout 20 "$bin/dagger" query --silent <<<'{ version }' >/dev/null 2>&1)
}

start() {
  local state=$1 digest gc
  [[ $(id -u) == 0 ]] || die "must run as root (the engine runs on the host, like the shared one)"
  [[ -x $bin/dagger-engine ]] || die "no engine binaries in $bin: run ../shared/dagger-offline/setup once"
  running && die "a bench engine is already running (pid $(cat "$run/engine.pid")): bench/engine.sh stop"
  [[ $net != "${DAGGER_OFFLINE_NET_NAME:-dgoffline}" ]] || die "BENCH_NET_NAME must differ from the shared engine's network"
  if ss -Hltn 'sport = :53' | awk '{print $4}' | grep -qE '^(0\.0\.0\.0|\*|\[::\]):53$'; then
    die "a DNS server holds the wildcard :53, so this engine's dnsmasq cannot bind its bridge: stop it first"
  fi
  digest=$(cat "$shared/go-sdk-digest" 2>/dev/null) || die "no Go SDK image in $shared: run ../shared/dagger-offline/setup once"
  # The GC settings a CI runner's engine gets (scripts/engine-state config):
  # the size limit, and which caches a saved state leaves out.
  gc=$(ENGINE_STATE_LIMIT=$limit "$here/../scripts/engine-state" config) || die "no GC settings from scripts/engine-state config"
  gc=${gc#\{}
  mkdir -p "$run" "$state" "$run/bin"
  cat > "$run/engine.json" <<EOF
{
  "logLevel": "info",
  ${gc%\}},
  "registries": {
    "docker.io": { "mirrors": ["$reg"] },
    "$reg": { "http": true, "insecure": true }
  }
}
EOF
  # The engine shares the host's network namespace: its dnsmasq binds only
  # its own bridge.
  printf '#!/bin/sh\nexec /usr/sbin/dnsmasq --bind-dynamic "$@"\n' > "$run/bin/dnsmasq"
  chmod 755 "$run/bin/dnsmasq"
  # No engine of ours runs (checked above), so a pid file left by a killed
  # one is stale: the wait below would take it for the new engine, dead.
  rm -f "$sock" "$run/engine.pid"
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  # A private mount namespace gives this engine its own engine.json, default
  # sockets and (read-only) the shared Go SDK image, as the shared setup does.
  PATH="$run/bin:$PATH" DAGGER_GO_SDK_MANIFEST_DIGEST=$digest setsid unshare --mount --propagation private -- /bin/sh -c '
    set -e
    echo $$ > "$1/engine.pid"
    mount -t tmpfs tmpfs /run/dagger
    mount -t tmpfs tmpfs /run/buildkit
    mount --bind "$1/engine.json" /etc/dagger/engine.json
    mount --bind "$2/content" /usr/local/share/dagger/content
    mount -o remount,bind,ro /usr/local/share/dagger/content
    mount --bind "$3/dagger-init" /usr/local/bin/dagger-init
    exec "$3/dagger-engine" --root "$4" --addr "unix://$1/engine.sock" \
      --network-name "$5" --network-cidr "$6" --oci-cni-binary-dir "$2/cni/bin" \
      --oci-worker-binary /usr/sbin/runc
  ' bench-engine "$run" "$shared" "$bin" "$(cd "$state" && pwd)" "$net" "$cidr" >> "$run/engine.log" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    if [[ -S $sock ]] && answers; then echo "unix://$sock"; return 0; fi
    if [[ -s $run/engine.pid ]] && ! [[ -d /proc/$(cat "$run/engine.pid") ]]; then break; fi
    sleep 0.5
  done
  tail -20 "$run/engine.log" >&2
  die "the bench engine did not come up (log: $run/engine.log)"
}

stop() {
  local pid
  running || { echo "bench/engine.sh: no bench engine running" >&2; rm -f "$run/engine.pid"; return 0; }
  (cd / && _EXPERIMENTAL_DAGGER_RUNNER_HOST=unix://$sock "$bin/dagger" core engine local-cache prune --use-default-policy > /dev/null 2>&1) ||
    echo "bench/engine.sh: WARNING: prune failed" >&2
  pid=$(cat "$run/engine.pid")
  kill -TERM "$pid"
  for _ in $(seq 1 120); do [[ -d /proc/$pid ]] || break; sleep 0.5; done
  [[ -d /proc/$pid ]] && die "the bench engine (pid $pid) did not stop within 60 s"
  # The dnsmasq the engine's CNI plugin started for this network only.
  local d=/run/containers/cni/dnsname/$net
  if [[ -s $d/pidfile ]]; then
    pid=$(cat "$d/pidfile")
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "dnsname/$net/dnsmasq.conf"; then
      kill -TERM "$pid"
    fi
    rm -f "$d/pidfile"
  fi
  rm -f "$run/engine.pid" "$sock"
}

case ${1:-} in
  start) [[ $# == 2 ]] || die "usage: $0 start STATE_DIR"; start "$2" ;;
  stop) stop ;;
  *) die "usage: $0 start STATE_DIR | stop" ;;
esac
