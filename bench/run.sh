#!/usr/bin/env bash
# Benchmarks of stevedore on the real engine, printing figures (not a test:
# nothing here passes or fails on time). Runs on a scratch copy of the repo so
# the one-line change never touches your tree.
#
#   bench/run.sh            everything below (cold runs prune the engine cache!)
#   bench/run.sh build      build+test: cold, warm, one-line backend change
#   bench/run.sh synth      cdk synth: cold, warm (unchanged inputs)
#   bench/run.sh deploy     deploy --target local: cold, warm, one-line change,
#                           and the same steps as a naive sequential script
#
# Two kinds of cold:
# - "cold": no step has run before: the engine's cache is pruned (layers and
#   cache volumes), then only the base images are pulled and stevedore's module
#   is loaded, as on a runner where they are preinstalled. The naive script
#   gets the same: pulled images and fresh npm and Go caches (its Go and Node
#   are preinstalled on the host).
# - "fully cold": pruned and nothing preloaded: adds pulling the images and
#   compiling stevedore's module itself (Go SDK + AWS SDK) to the run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
results="$repo/bench/results"
mkdir -p "$results"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src="$work/src"

fresh_copy() {
  rm -rf "$src" && mkdir -p "$src"
  (cd "$repo" && tar --exclude=node_modules --exclude=dist --exclude=cdk.out --exclude=bench/results -cf - stevedore.yaml examples docker infra) | tar -xf - -C "$src"
}

# One-line backend change: a different default version string.
change_backend() {
  sed -i "s/envOr(\"APP_VERSION\", \"[^\"]*\")/envOr(\"APP_VERSION\", \"bench-$RANDOM\")/" "$src/examples/backend/handler.go"
}

prune() { dagger core engine local-cache prune >/dev/null 2>&1; }

# preload pulls the base images the pipeline and the naive script use, and
# loads stevedore's module: what a runner image would already have.
preload() {
  local img
  for img in golang:1.26 node:20 debian:bookworm-slim nginx:stable-bookworm registry:2; do
    dagger -M -c "container | from $img | sync" >/dev/null 2>&1
  done
  (cd "$repo" && dagger functions >/dev/null 2>&1)
}

# timed LABEL CMD...: runs CMD, prints and records its wall time in seconds.
timed() {
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" > "$work/out.txt" 2> "$work/err.txt" || { echo "FAILED: $label"; tail -40 "$work/err.txt"; exit 1; }
  end=$(date +%s.%N)
  local secs
  secs=$(echo "$end - $start" | bc)
  printf '%-48s %8.1f s\n' "$label" "$secs"
  echo "$label,$secs" >> "$results/figures.csv"
  LAST=$secs
}

ratio() { echo "scale=2; $1 / $2" | bc; }

call() { (cd "$repo" && dagger call --source "$src" "$@"); }

bench_build() {
  echo "== build + test (images, frontend, tests) =="
  fresh_copy
  prune
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
  prune
  preload
  for env in dev staging prod; do
    timed "synth cao/$env cold" call synth --env "$env" --image "$(image_arg)" entries
    timed "synth cao/$env warm (cache hit)" call synth --env "$env" --image "$(image_arg)" entries
  done
  for env in dev staging prod; do
    timed "synth commander/$env" call synth --app commander --env "$env" \
      --image "backend=bench.invalid/commander-backend@sha256:$(printf '%064d' 2)" \
      --image "qdrant=bench.invalid/commander-qdrant@sha256:$(printf '%064d' 3)" entries
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
  prune
  preload
  timed "naive sequential script, cold" naive_sequential
  local naive=$LAST
  prune
  timed "stevedore deploy --target local, fully cold" call deploy
  local fully=$LAST
  prune
  preload
  timed "stevedore deploy --target local, cold" call deploy
  local cold=$LAST
  cp "$work/out.txt" "$results/deploy-cold.md"
  timed "stevedore deploy --target local, warm (no change)" call deploy
  local warm=$LAST
  cp "$work/out.txt" "$results/deploy-warm.md"
  change_backend
  timed "stevedore deploy --target local, one-line backend change" call deploy
  local change=$LAST
  cp "$work/out.txt" "$results/deploy-change.md"
  echo "warm/cold        = $(ratio "$warm" "$cold")   (goal ≤ 0.10)"
  echo "one-line/cold    = $(ratio "$change" "$cold")   (goal ≤ 0.35)"
  echo "cold/sequential  = $(ratio "$cold" "$naive")   (goal ≤ 0.80)"
  echo "fully cold/sequential = $(ratio "$fully" "$naive")"
  echo "reports: $results/deploy-{cold,warm,change}.md"
}

: > "$results/figures.csv"
case "${1:-all}" in
  build) bench_build ;;
  synth) bench_synth ;;
  deploy) bench_deploy ;;
  all) bench_build; bench_synth; bench_deploy ;;
  *) echo "usage: $0 [build|synth|deploy]" >&2; exit 2 ;;
esac
