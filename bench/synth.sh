#!/usr/bin/env bash
# Synth figures of a TypeScript CDK app (examples/commander-ts) next to
# stevedore's built-in Go CDK app (infra/, rendering a stevedore.yaml with no
# infra.dir) for both reference descriptions, on the real engine. Prints
# figures; nothing here passes or fails on time.
#
#   bench/synth.sh            both parts below
#   bench/synth.sh ts         the TypeScript app only (shared engine)
#   bench/synth.sh builtin    the built-in app only (its own engine)
#
# The TypeScript app is synthesized from a scratch copy on the shared engine:
#   deps-changed  a unique marker in package.json: npm ci runs again (the
#                 engine's npm store stays warm: this script never prunes it).
#   warm          the same inputs again: every layer is a cache hit.
#   source-edit   a one-line edit of a stack's source: no reinstall; ts-node
#                 type-checks again.
#   overhead      `config` on the same source: module load and reading the
#                 repository, included in every figure above.
#
# The built-in app runs on a NEW, empty engine of its own (bench/engine.sh:
# a second engine next to the shared one, which is never stopped or pruned;
# needs root), with only the base images pulled and stevedore's module
# loaded, as on a runner where those are preinstalled. Both descriptions,
# the repository's own (CAO, 4 stacks) and examples/commander (8 stacks),
# from a caller's source that has no infra/ (the app comes from the module):
#   cold          the first synth on that engine: npm install of the CDK
#                 CLI, go mod download and the compile of the built-in app,
#                 then the synth. The second description's cold figure
#                 reuses the compiled app (one binary renders any description).
#   warm          the same inputs again: a cache hit.
#   description-edit  a one-line edit of stevedore.yaml: no recompile, the
#                 synth alone runs again.
# Settings: BENCH_STATE (the built-in part's engine state, default
# /var/lib/stevedore-bench-synth; wiped!) and those of bench/engine.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
zero=$(printf '%064d' 0)

timed() { # LABEL CMD...: runs CMD and prints its wall time
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  if ! "$@" >/dev/null 2>"$work/err"; then
    echo "$label: FAILED" >&2
    tail -n 30 "$work/err" >&2
    return 1
  fi
  end=$(date +%s.%N)
  printf '%-34s %6.1f s\n' "$label" "$(echo "$end - $start" | bc)"
}

ts=$work/ts
mkdir -p "$ts"
(cd "$repo/examples/commander-ts" && tar --exclude=node_modules --exclude=cdk.out -cf - .) | tar -xf - -C "$ts"
ts_synth() {
  (cd "$repo" && dagger call --source "$ts" synth --env dev \
    --image "backend=r/commander-backend@sha256:$zero" --image "qdrant=r/commander-qdrant@sha256:$zero" entries)
}

part=${1:-all}
case $part in all | ts | builtin) ;; *) echo "usage: $0 [ts|builtin]" >&2; exit 2 ;; esac

if [[ $part != builtin ]]; then
  marker="bench-$(date +%s)-$RANDOM"
  echo "TypeScript CDK app (examples/commander-ts, ts-node, npm ci)"
  sed -i "s/\"private\": true,/\"private\": true,\n  \"description\": \"$marker\",/" "$ts/infrastructure/cdk/package.json"
  timed "  deps-changed" ts_synth
  timed "  warm" ts_synth
  sed -i "s/cpu: 512,/cpu: 1024,/" "$ts/infrastructure/cdk/lib/backend-stack.ts"
  timed "  source-edit" ts_synth
  timed "  overhead (config)" bash -c "cd '$repo' && dagger call --source '$ts' config"
fi
[[ $part == ts ]] && exit 0

# The caller's repository: the two descriptions and what they build, no infra/.
src=$work/builtin
mkdir -p "$src"
(cd "$repo" && tar --exclude=node_modules --exclude=dist --exclude=out --exclude=__pycache__ -cf - stevedore.yaml examples/backend examples/frontend examples/commander docker) | tar -xf - -C "$src"
cao_synth() {
  (cd "$repo" && dagger call --source "$src" synth --env dev --image "backend=r/cao-server@sha256:$zero" entries)
}
commander_synth() {
  (cd "$repo" && dagger call --source "$src" --config examples/commander/stevedore.yaml synth --env dev \
    --image "backend=r/commander-ai-backend@sha256:$zero" --image "qdrant=r/commander-ai-qdrant@sha256:$zero" entries)
}

state=${BENCH_STATE:-/var/lib/stevedore-bench-synth}
[[ $state == /var/lib/dagger-offline* ]] && { echo "BENCH_STATE must not be the shared engine's state" >&2; exit 2; }
export PATH=${DAGGER_OFFLINE_CACHE:-/var/cache/dagger-offline}/v0.19.10/bin:$PATH DAGGER_NO_NAG=1 DO_NOT_TRACK=1
trap 'rm -rf "$work"; "$repo/bench/engine.sh" stop 2>/dev/null || true' EXIT
"$repo/bench/engine.sh" stop
rm -rf "$state"
_EXPERIMENTAL_DAGGER_RUNNER_HOST=$("$repo/bench/engine.sh" start "$state")
export _EXPERIMENTAL_DAGGER_RUNNER_HOST
# What a runner image would already have: the base images and the module.
for img in golang:1.26 node:20; do
  dagger -M -c "container | from $img | sync" >/dev/null 2>&1
done
(cd "$repo" && dagger functions >/dev/null 2>&1)

echo "Built-in Go CDK app (infra/, compiled once), new engine"
timed "  cao cold (compile + synth)" cao_synth
timed "  cao warm" cao_synth
timed "  commander cold (app compiled)" commander_synth
timed "  commander warm" commander_synth
sed -i "s/autoscaling: {min: 2, max: 10, cpu: 70, requestsPerTarget: 1000}/autoscaling: {min: 2, max: 12, cpu: 70, requestsPerTarget: 1000}/" "$src/stevedore.yaml"
grep -q "max: 12" "$src/stevedore.yaml" || { echo "the description edit did not apply" >&2; exit 1; }
timed "  cao description-edit" cao_synth
sed -i "s/autoscaling: {min: 2, max: 10, cpu: 70}/autoscaling: {min: 2, max: 12, cpu: 70}/" "$src/examples/commander/stevedore.yaml"
grep -q "max: 12" "$src/examples/commander/stevedore.yaml" || { echo "the description edit did not apply" >&2; exit 1; }
timed "  commander description-edit" commander_synth
