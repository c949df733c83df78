#!/usr/bin/env bash
# Benchmarks of stevedore on a real engine, printing figures (not a test:
# nothing here passes or fails on time). Runs on a scratch copy of the repo so
# the one-line change never touches your tree.
#
#   bench/run.sh            build, synth and deploy below
#   bench/run.sh build      build+test: cold, warm, one-line backend change
#   bench/run.sh synth      cdk synth: cold, warm (unchanged inputs)
#   bench/run.sh deploy     deploy --target local: cold, warm, one-line change,
#                           and the same steps as a naive sequential script
#   bench/run.sh restore    a fresh CI runner with a saved engine state: cold
#                           deploy on an empty engine, save, wipe, restore, new
#                           engine process, same deploy; warm for reference;
#                           a one-line change after a restore; the saved size
#
# Every run here is on its own engine (bench/engine.sh): a second offline
# engine next to the machine's shared one, which is never stopped, pruned or
# wiped. "Cold" is a NEW, empty engine state, not a prune (a prune leaves
# entries behind: the ~100 s CDK compile once came back in 1.4 s after one),
# and the bench checks it: every step of a cold deploy must be reported as
# not cached, and it prints the CDK compile (prepare-infra) time.
# - "cold": a new engine state, then only the base images are pulled and
#   stevedore's module is loaded, as on a runner where they are preinstalled.
#   The naive script gets the same: pulled images and fresh npm and Go caches
#   (its Go and Node are preinstalled on the host).
# - "fully cold": a new engine state and nothing preloaded: adds pulling the
#   images and compiling stevedore's module itself (Go SDK + AWS SDK).
#
# Settings: BENCH_STATE (engine state dir, default /var/lib/stevedore-bench;
# wiped!), ENGINE_STATE_LIMIT (saved-state limit, default 6G), and those of
# bench/engine.sh. Needs root and ../shared/dagger-offline set up once.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
results="$repo/bench/results"
mkdir -p "$results"
work=$(mktemp -d)
src="$work/src"

# fresh_copy: what the pipeline and the naive script read; infra/ replaces
# stevedore's module with ../, so its go.mod and pipelines/ come along.
fresh_copy() {
  rm -rf "$src" && mkdir -p "$src"
  (cd "$repo" && tar --exclude=node_modules --exclude=dist --exclude=cdk.out --exclude=bench/results -cf - stevedore.yaml examples docker infra go.mod go.sum pipelines) | tar -xf - -C "$src"
}

# One-line backend change: a different default version string.
change_backend() {
  sed -i "s/envOr(\"APP_VERSION\", \"[^\"]*\")/envOr(\"APP_VERSION\", \"bench-$RANDOM\")/" "$src/examples/backend/handler.go"
}

state=${BENCH_STATE:-/var/lib/stevedore-bench}
archive=$state.tar.zst
[[ $state == /var/lib/dagger-offline* ]] && { echo "BENCH_STATE must not be the shared engine's state" >&2; exit 2; }
export PATH=${DAGGER_OFFLINE_CACHE:-/var/cache/dagger-offline}/v0.19.10/bin:$PATH DAGGER_NO_NAG=1 DO_NOT_TRACK=1
trap 'rm -rf "$work"; "$repo/bench/engine.sh" stop 2>/dev/null || true' EXIT

# new_disk: the disk as a new runner has it. For a minute or more after
# some 100,000 files are deleted, ext4's inode allocator checks every new
# file against the just-freed inodes whose table blocks are still in
# memory (recently_deleted() in ialloc.c); that made a restore or a cold
# run on the same disk 3 to 5 times slower (perf: most of tar's time in
# the kernel). The wipe below deletes that many, and so does the prune
# before a save, on the runner that saves; the runner that restores has a
# disk of its own. Writing everything out and dropping the kernel's caches
# forgets the deleted inodes; the archive is then read back into memory,
# as a cache download leaves it.
new_disk() {
  sync
  echo 3 > /proc/sys/vm/drop_caches
  if [[ -s $archive ]]; then cat "$archive" > /dev/null; fi
}

# wipe: the engine state is gone for the next engine, as on a new runner.
wipe() {
  rm -rf "$state" "$state".wiped.* # .wiped.*: left by an older bench
  new_disk
}

# engine_on DIR: a new engine process on DIR, used by everything below.
engine_on() {
  "$repo/bench/engine.sh" stop
  _EXPERIMENTAL_DAGGER_RUNNER_HOST=$("$repo/bench/engine.sh" start "$1")
  export _EXPERIMENTAL_DAGGER_RUNNER_HOST
}

# new_engine: a really empty engine: a new state directory, a new process.
new_engine() {
  "$repo/bench/engine.sh" stop
  wipe
  engine_on "$state"
}

# preload pulls the base images the pipeline and the naive script use, and
# loads stevedore's module: what a runner image would already have.
preload() {
  local img
  for img in golang:1.26 node:20 debian:bookworm-slim nginx:stable-bookworm registry:2; do
    dagger -M -c "container | from $img | sync" >/dev/null 2>&1
  done
  (cd "$repo" && dagger functions >/dev/null 2>&1)
}

# load1m: the machine's 1-minute load average (2 cores here: above ~2 means
# other work competed with the run).
load1m() { cut -d' ' -f1 /proc/loadavg; }

# timed LABEL CMD...: runs CMD, prints and records its wall time in seconds
# and the load average at its start and end.
timed() {
  local label=$1; shift
  local start end load0 load1
  load0=$(load1m)
  start=$(date +%s.%N)
  "$@" > "$work/out.txt" 2> "$work/err.txt" || { echo "FAILED: $label"; tail -40 "$work/err.txt"; exit 1; }
  end=$(date +%s.%N)
  load1=$(load1m)
  local secs
  secs=$(echo "$end - $start" | bc)
  printf '%-48s %8.1f s   (load %s → %s)\n' "$label" "$secs" "$load0" "$load1"
  echo "$label,$secs,$load0,$load1" >> "$results/figures.csv"
  LAST=$secs
}

ratio() { printf '%.2f' "$(echo "scale=4; $1 / $2" | bc)"; }

call() { (cd "$repo" && dagger call --source "$src" "$@"); }

bench_build() {
  echo "== build + test (images, frontend, tests) =="
  fresh_copy
  new_engine
  preload
  timed "build+test cold" sh -c "cd '$repo' && dagger call --source '$src' images >/dev/null && dagger call --source '$src' frontend-image >/dev/null && dagger call --source '$src' test >/dev/null"
  local cold=$LAST
  timed "build+test warm (no change)" sh -c "cd '$repo' && dagger call --source '$src' images >/dev/null && dagger call --source '$src' frontend-image >/dev/null && dagger call --source '$src' test >/dev/null"
  local warm=$LAST
  change_backend
  timed "build+test after a one-line backend change" sh -c "cd '$repo' && dagger call --source '$src' images >/dev/null && dagger call --source '$src' frontend-image >/dev/null && dagger call --source '$src' test >/dev/null"
  local change=$LAST
  echo "warm/cold = $(ratio "$warm" "$cold"), one-line change/cold = $(ratio "$change" "$cold")"
}

image_arg() { echo "backend=bench.invalid/cao-server@sha256:$(printf '%064d' 1)"; }

bench_synth() {
  echo "== cdk synth (Go CDK app, node:20 + Go) =="
  fresh_copy
  new_engine
  preload
  for env in dev staging prod; do
    timed "synth cao/$env cold" call synth --env "$env" --image "$(image_arg)" entries
    timed "synth cao/$env warm (cache hit)" call synth --env "$env" --image "$(image_arg)" entries
  done
  for env in dev staging prod; do
    timed "synth commander/$env" call --config examples/commander/stevedore.yaml synth --env "$env" \
      --image "backend=bench.invalid/commander-ai-backend@sha256:$(printf '%064d' 2)" \
      --image "qdrant=bench.invalid/commander-ai-qdrant@sha256:$(printf '%064d' 3)" entries
  done
}

# The same work as a hand-written, sequential CI job: each tool run once,
# in order, from empty caches, images built and pushed through the engine
# (there is no Docker daemon here).
naive_sequential() {
  local home="$work/naive-home"
  rm -rf "$home" && mkdir -p "$home"
  export npm_config_cache="$home/npm" GOMODCACHE="$home/gomod" GOCACHE="$home/gocache" GOPATH="$home/go"
  local sha
  sha=$(date +%s)
  (cd "$src/examples/frontend" && npm ci --no-fund --no-audit && npm run build && npm test)
  (cd "$src/examples/backend" && go test ./... && go build -o "$home/server" .)
  (cd "$repo" && dagger -M -c "host | directory $src/examples/backend | with-file .Dockerfile \$(host | file $src/docker/backend.Dockerfile) | docker-build --dockerfile .Dockerfile | publish 127.0.0.1:5000/bench/cao-server:$sha")
  (cd "$repo" && dagger -M -c "directory | with-directory dist \$(host | directory $src/examples/frontend/dist) | with-file nginx.conf \$(host | file $src/docker/nginx.conf) | with-file Dockerfile \$(host | file $src/docker/frontend.Dockerfile) | docker-build | publish 127.0.0.1:5000/bench/cao-frontend:$sha")
  (cd "$home" && npm install --prefix "$home/cdk" --no-fund --no-audit aws-cdk@2.1148.1)
  (cd "$src/infra" && go build -o "$home/cdk-app" . && "$home/cdk/node_modules/.bin/cdk" synth --app "$home/cdk-app" --output "$home/cdk.out" --quiet --no-notices \
     -c app=cao -c env=dev -c frontend=true -c "image.backend=127.0.0.1:5000/bench/cao-server@sha256:$(printf '%064d' 1)")
}

bench_deploy() {
  echo "== deploy --target local (the whole pipeline) vs a naive sequential script =="
  fresh_copy
  new_engine
  preload
  timed "naive sequential script, cold" naive_sequential
  local naive=$LAST
  new_engine
  timed "stevedore deploy --target local, fully cold" call deploy --format markdown
  local fully=$LAST
  new_engine
  preload
  timed "stevedore deploy --target local, cold" call deploy --format markdown
  local cold=$LAST
  cp "$work/out.txt" "$results/deploy-cold.md"
  timed "stevedore deploy --target local, warm (no change)" call deploy --format markdown
  local warm=$LAST
  cp "$work/out.txt" "$results/deploy-warm.md"
  change_backend
  timed "stevedore deploy --target local, one-line backend change" call deploy --format markdown
  local change=$LAST
  cp "$work/out.txt" "$results/deploy-change.md"
  echo "warm/cold        = $(ratio "$warm" "$cold")   (goal ≤ 0.10)"
  echo "one-line/cold    = $(ratio "$change" "$cold")   (goal ≤ 0.35)"
  echo "cold/sequential  = $(ratio "$cold" "$naive")   (goal ≤ 0.80)"
  echo "fully cold/sequential = $(ratio "$fully" "$naive")"
  echo "reports: $results/deploy-{cold,warm,change}.md"
}

# assert_cold REPORT: every step of the deploy report ran (none cached);
# prints the CDK compile's duration.
assert_cold() {
  local cached
  cached=$(awk -F'|' '/^\| / && $5 ~ /yes/ { gsub(/ /, "", $2); print $2 }' "$1")
  if [[ -n $cached ]]; then
    echo "NOT COLD: these steps were reported cached: $(echo "$cached" | tr '\n' ' ')" >&2
    exit 1
  fi
  echo "cold checked: no step of $(awk -F'|' '/^\| / && $2 !~ /Step|---/' "$1" | wc -l) reported cached"
  step_time "$1" prepare-infra "CDK compile (prepare-infra)"
}

# step_time REPORT STEP LABEL: prints a step's duration from a deploy report.
step_time() {
  printf '  %-46s %8s\n' "$3" "$(awk -F'|' -v s="$2" '{ n = $2; gsub(/ /, "", n) } n == s { gsub(/ /, "", $4); print $4 }' "$1")"
}

# secs DURATION: a Go duration as the report prints it (2m20.1s, 875ms) in seconds.
secs() {
  awk -v d="$1" 'BEGIN {
    t = 0
    while (match(d, /^[0-9.]+(h|ms|µs|us|ns|m|s)/)) {
      tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      match(tok, /[0-9.]+/); n = substr(tok, RSTART, RLENGTH) + 0; u = substr(tok, RLENGTH + 1)
      t += n * (u == "h" ? 3600 : u == "m" ? 60 : u == "s" ? 1 : u == "ms" ? 0.001 : 0.000001)
    }
    printf "%.1f", t
  }'
}

# outside_graph REPORT CLI_SECS: how much of the CLI call was not the deploy
# graph itself (loading stevedore's module, pulling what it runs in).
outside_graph() {
  local wall
  wall=$(secs "$(sed -n 's/.* in \([0-9hmsµn.]*\) wall time.*/\1/p' "$1" | head -1)")
  printf '  %-46s %8.1f s (graph %s s)\n' "outside the step graph (module load)" "$(echo "$2 - $wall" | bc)" "$wall"
}

# cached_steps REPORT: how many steps a deploy report says were cached.
cached_steps() { awk -F'|' '/^\| / && $5 ~ /yes/' "$1" | wc -l; }

# A fresh CI runner with the engine state from a cache (issue 18): the save
# and restore times are reported apart and counted in the ratio; the archive
# stays on local disk here (a CI cache adds its upload and download).
bench_restore() {
  echo "== deploy --target local on a fresh runner: cold, then from a saved engine state =="
  fresh_copy
  new_engine
  timed "deploy, cold (new engine state, nothing preloaded)" call deploy --format markdown
  local cold=$LAST
  cp "$work/out.txt" "$results/restore-cold.md"
  assert_cold "$work/out.txt"
  outside_graph "$work/out.txt" "$cold"
  timed "stop the engine (prune to the limit)" "$repo/bench/engine.sh" stop
  local stop=$LAST
  rm -f "$archive"
  timed "save the state (scripts/engine-state save)" "$repo/scripts/engine-state" save "$state" "$archive"
  local save=$LAST
  [[ -s $archive ]] || { echo "the state was over ENGINE_STATE_LIMIT and not saved" >&2; exit 1; }
  local saved raw
  saved=$(stat -c %s "$archive"); raw=$(du -sb "$state" | cut -f1)
  printf '%-48s %8s (state %s)\n' "saved size" "$(numfmt --to=iec "$saved")" "$(numfmt --to=iec "$raw")"
  echo "saved size,$saved" >> "$results/figures.csv"
  wipe
  timed "restore the state (scripts/engine-state restore)" "$repo/scripts/engine-state" restore "$archive" "$state"
  local restore=$LAST
  timed "start a new engine process on it" engine_on "$state"
  local start=$LAST
  timed "deploy after the restore (same commit)" call deploy --format markdown
  local restored=$LAST
  cp "$work/out.txt" "$results/restore-restored.md"
  echo "  steps reported cached: $(cached_steps "$work/out.txt")"
  outside_graph "$work/out.txt" "$restored"
  timed "deploy, warm (same engine, for reference)" call deploy --format markdown
  local warm=$LAST
  # A one-line change on a runner that restored the same saved state.
  "$repo/bench/engine.sh" stop
  wipe
  "$repo/scripts/engine-state" restore "$archive" "$state"
  engine_on "$state"
  change_backend
  timed "deploy after a restore + one-line backend change" call deploy --format markdown
  local change=$LAST
  cp "$work/out.txt" "$results/restore-change.md"
  local total
  total=$(echo "$stop + $save + $restore + $start + $restored" | bc)
  echo "restored (stop+save+restore+start+deploy = $total s) / cold = $(ratio "$total" "$cold")   (goal ≤ 0.20)"
  echo "restored deploy alone / cold = $(ratio "$restored" "$cold"), warm / cold = $(ratio "$warm" "$cold")"
  echo "one-line change after restore (incl. restore+start) / cold = $(ratio "$(echo "$restore + $start + $change" | bc)" "$cold")"
  rm -f "$archive"
}

: > "$results/figures.csv"
case "${1:-all}" in
  build) bench_build ;;
  synth) bench_synth ;;
  deploy) bench_deploy ;;
  restore) bench_restore ;;
  all) bench_build; bench_synth; bench_deploy ;;
  *) echo "usage: $0 [build|synth|deploy|restore]" >&2; exit 2 ;;
esac
