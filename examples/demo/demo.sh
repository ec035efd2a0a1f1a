#!/usr/bin/env bash
# The main job on the embedded local AWS: start it, build a stack graph, look at it,
# change one value and build again (only what changed is touched), then destroy.
set -euo pipefail
cd "$(dirname "$0")"
BIN=${STACKYARD:-stackyard}
# Keep the demo's endpoint and its state apart from any endpoint you run yourself.
export STACKYARD_HOME="${STACKYARD_HOME:-$(mktemp -d)}"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "start the local AWS endpoint"
"$BIN" local up --port 0 --latency resource=0.2s
trap '"$BIN" local down >/dev/null 2>&1 || true' EXIT

step "the stack graph (stackyard graph)"
"$BIN" graph --format json stage.env stackyard.yaml | python3 -c \
  'import json,sys; [print(f"  {n[\"name\"]:<9} needs {[d[\"name\"] for d in n[\"needs\"]] or \"nothing\"}") for n in json.load(sys.stdin)["nodes"]]'

step "build every stack, in parallel as soon as its dependencies are done"
"$BIN" build --local stage.env stackyard.yaml

step "what is deployed (stackyard info)"
"$BIN" info --local stage.env stackyard.yaml

step "build again with nothing changed: no update calls"
"$BIN" build --local --stats stage.env stackyard.yaml

step "change one value (-e log_level=debug) and build: only 'settings' is updated"
"$BIN" build --local -e log_level=debug stage.env stackyard.yaml

step "destroy everything, in reverse dependency order"
"$BIN" destroy --local --yes stage.env stackyard.yaml
