#!/usr/bin/env bash
# `make demo`: the team's whole stage environment (12 stacks) on the embedded local AWS,
# then an app (web and worker) deployed onto it with `stackyard apps`.
# Starts the local AWS, stores the database password as a secret, builds every stack in
# parallel as soon as its dependencies are done, shows what exists, and leaves the endpoint
# running so that you can try the next commands yourself.
set -euo pipefail
cd "$(dirname "$0")"
SY=${STACKYARD:-stackyard}
SHOWN=${STACKYARD_SHOWN:-stackyard}   # how the commands are shown to you
ENV=stage.env
CONFIG=stackyard.yaml

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$SHOWN $*"; "$SY" "$@"; }

bold "1. Start the local AWS (moto, with a CloudFormation that behaves like AWS's)"
if "$SY" local status >/dev/null 2>&1; then
  echo "already running:"; "$SY" local status | head -3
else
  run local up --port 0 --latency resource=0.15s,jitter=0.3
fi

bold "2. The stack graph: what needs what (arrows are output lookups and requires)"
"$SY" graph --format json "$ENV" "$CONFIG" | python3 -c '
import json, sys
for node in json.load(sys.stdin)["nodes"]:
    name, needs = node["name"], ", ".join(d["name"] for d in node["needs"]) or "-"
    print(f"  {name:<13} needs {needs}")'

bold "3. Build the secrets key first, then store the database password under it"
run build --local --stacks secrets-key "$ENV" "$CONFIG"
SECRET=/ops-stage/database/master-password
if "$SY" secrets get --local "$SECRET" >/dev/null 2>&1; then
  # A rerun keeps the password: rotating it would change the database on every run.
  echo "  $SECRET is already stored; kept as it is (rotate it with secrets put --overwrite)"
else
  # What runs is what is shown: 16 random bytes from /dev/urandom, as hex.
  printf '\033[2m$ %s\033[0m\n' "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' | $SHOWN secrets put --local $SECRET"
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | "$SY" secrets put --local "$SECRET"
fi

bold "4. Plan everything and save the plan for review (the database and DNS zones are protected)"
PLAN="$(mktemp -d)/stage.plan"
run plan --local -o "$PLAN" "$ENV" "$CONFIG" > "$PLAN.txt"
sed '/^$/q' "$PLAN.txt"   # the summary: one line a stack
echo "  (resource by resource: $PLAN.txt; the plan itself, for apply: $PLAN)"

bold "5. Apply exactly the reviewed plan (the file records its inputs): every stack starts as soon as the ones it needs are done"
echo "  (on a terminal, 'stackyard build' plans, then asks once for every protected change before anything runs)"
run apply --local "$PLAN"

bold "6. What now exists"
"$SY" info --local --json "$ENV" "$CONFIG" | python3 -c '
import json, sys
stacks = json.load(sys.stdin)["stacks"]
keys = {"gateway": "DNSName", "database": "Endpoint", "cluster": "ClusterName",
        "public-zone": "NameServers", "secrets-key": "AliasName", "waf": "WebAclArn"}
for s in stacks:
    extra = ""
    key = keys.get(s["name"])
    if key:
        value = next((v for k, v in s["outputs"].items() if k.startswith(key)), "")
        extra = f"{key} = {value}"
    name, status = s["name"], s["status"]
    print(f"  {name:<13} {status:<16} {extra}")'

bold "7. Build again with nothing changed: one CloudFormation call for all twelve stacks"
run build --local --stats "$ENV" "$CONFIG" 2>&1 | tail -5

bold "8. An app on the cluster: web and worker processes, each on its own pool"
run apps create api -m apps/api.yaml
run apps deploy registry.example.com/api:v1 -a api -e stage --local -m "first release"
run apps ps -a api -e stage --local

bold "9. Scale the web process: a new release, followed until ECS says COMPLETED"
run apps scale -a api -e stage --local web=3
run apps ps -a api -e stage --local

bold "10. A secret config var: the task definition gets a valueFrom, never the value"
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' \
  | "$SY" secrets put --local --overwrite /ops-stage/api/database-url
run apps env set -a api -e stage --local DATABASE_URL=secret:/ops-stage/api/database-url
run apps env get -a api -e stage

bold "11. A second image, then back to the release before it"
run apps deploy registry.example.com/api:v2 -a api -e stage --local -m "second release"
run apps rollback -a api -e stage --local
run apps releases -a api -e stage
run apps events -a api

bold "Try next, from the repository's folder (the local AWS keeps running)"
O=examples/ops
cat <<NEXT
  # status and every output
  $SHOWN info --local $O/$ENV $O/$CONFIG
  # what a change would do, before it is done
  $SHOWN diff --local -e web_max=6 $O/$ENV $O/$CONFIG
  # roll a new AMI onto the instance pools, one pool at a time
  $SHOWN fleet release --local --ami ami-0123456789abcdef0 $O/$ENV $O/$CONFIG
  # secrets: names and versions (never values), and which role can read which
  $SHOWN secrets list --local /ops-stage/
  $SHOWN secrets audit --local
  # the app: a failing image is rolled back by ECS and the deploy exits 1
  $SHOWN apps deploy registry.example.com/api:v3-unhealthy -a api -e stage --local --apps-file $O/apps.yaml
  # delete everything (asks first), then stop the local AWS
  $SHOWN destroy --local $O/$ENV $O/$CONFIG
  $SHOWN local down
NEXT
