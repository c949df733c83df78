#!/usr/bin/env bash
# Synth figures of a TypeScript CDK app (examples/commander-ts) next to
# stevedore's Go CDK app (infra/), on the real engine. Prints figures; nothing
# here passes or fails on time.
#
#   bench/synth.sh
#
# Each app is synthesized from a scratch copy, four ways:
#   deps-changed  a unique marker in package.json / go.mod: the install (npm ci)
#                 or compile layer runs again. The engine's shared npm store and
#                 Go build cache stay warm: this script never prunes the engine
#                 (bench/run.sh synth does, for fully cold figures).
#   warm          the same inputs again: every layer is a cache hit.
#   source-edit   a one-line edit of a stack's source: no reinstall; ts-node
#                 type-checks again, go build recompiles the package.
#   overhead      `config` on the same source: module load and reading the
#                 repository, included in every figure above.
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
  printf '%-28s %6.1f s\n' "$label" "$(echo "$end - $start" | bc)"
}

ts=$work/ts
mkdir -p "$ts"
(cd "$repo/examples/commander-ts" && tar --exclude=node_modules --exclude=cdk.out -cf - .) | tar -xf - -C "$ts"
ts_synth() {
  (cd "$repo" && dagger call --source "$ts" synth --env dev \
    --image "backend=r/commander-backend@sha256:$zero" --image "qdrant=r/commander-qdrant@sha256:$zero" entries)
}

gosrc=$work/go
mkdir -p "$gosrc"
(cd "$repo" && tar --exclude=node_modules --exclude=dist --exclude=cdk.out -cf - stevedore.yaml examples/backend examples/frontend docker infra) | tar -xf - -C "$gosrc"
go_synth() {
  (cd "$repo" && dagger call --source "$gosrc" synth --env dev --image "backend=r/cao-server@sha256:$zero" entries)
}

marker="bench-$(date +%s)-$RANDOM"
echo "TypeScript CDK app (examples/commander-ts, ts-node, npm ci)"
sed -i "s/\"private\": true,/\"private\": true,\n  \"description\": \"$marker\",/" "$ts/infrastructure/cdk/package.json"
timed "  deps-changed" ts_synth
timed "  warm" ts_synth
sed -i "s/cpu: 512,/cpu: 1024,/" "$ts/infrastructure/cdk/lib/backend-stack.ts"
timed "  source-edit" ts_synth
timed "  overhead (config)" bash -c "cd '$repo' && dagger call --source '$ts' config"

echo "Go CDK app (infra/, compiled once)"
echo "// $marker" >> "$gosrc/infra/go.mod"
timed "  deps-changed" go_synth
timed "  warm" go_synth
echo "// $marker" >> "$gosrc/infra/main.go"
timed "  source-edit" go_synth
timed "  overhead (config)" bash -c "cd '$repo' && dagger call --source '$gosrc' config"
