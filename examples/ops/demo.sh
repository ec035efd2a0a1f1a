#!/usr/bin/env bash
# `make demo`: the team's whole stage environment (12 stacks) on the embedded local AWS,
# then an app (web and worker) deployed onto it with `stackyard apps`, and a canary of it
# that takes a measured share of its traffic, is promoted, then rolls a broken release back.
# Starts the local AWS, stores the database password as a secret, builds every stack in
# parallel as soon as its dependencies are done, shows what exists, and leaves the endpoint
# running so that you can try the next commands yourself.
set -euo pipefail
cd "$(dirname "$0")"
SY=${STACKYARD:-stackyard}
SHOWN=${STACKYARD_SHOWN:-stackyard}   # how the commands are shown to you
ENV=stage.env
CONFIG=stackyard.yaml

# The demo keeps its own state (the local AWS's pid and log, the apps database) in a folder
# of its own: it never writes to your apps database, your team's (STACKYARD_DATABASE_URL) or
# a control plane server, and never touches a local AWS you started yourself.
DEMO_HOME=${STACKYARD_DEMO_HOME:-${STACKYARD_HOME:-$HOME/.stackyard}/demo}
export STACKYARD_HOME=$DEMO_HOME
unset STACKYARD_DATABASE_URL STACKYARD_SERVER STACKYARD_TOKEN

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$SHOWN $*"; "$SY" "$@"; }

bold "1. Start the local AWS (moto, with a CloudFormation that behaves like AWS's)"
if "$SY" local status >/dev/null 2>&1; then
  echo "already running:"; "$SY" local status | head -3
else
  # A new local AWS holds nothing: the app releases recorded against the last one are gone too.
  rm -f "$DEMO_HOME/apps.db"
  echo "  (the demo's state: $DEMO_HOME)"
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

bold "12. A canary: stage/canary runs in stage's cluster and takes 10% of its traffic"
echo "  (apps.yaml: stage/canary has 'parent: stage': stage's cluster, listener, config and formation, key by key)"
run apps scale -a api -e stage/canary --no-deploy web=1
run apps env diff stage stage/canary -a api
run apps deploy registry.example.com/api:v3 -a api -e stage/canary --local --steps 10 --bake 2s --poll 1s -m "canary of v3"
# 1,000 simulated requests through the gateway's listener: which target group answered each
STATUS=$("$SY" apps canary status -a api -e stage/canary --local --json)
LISTENER=$(printf '%s' "$STATUS" | python3 -c 'import json, sys; print(json.load(sys.stdin)["listener"])')
printf '\033[2m$ %s\033[0m\n' "$SHOWN local traffic \$LISTENER -n 1000 --host api.stage.example.com"
"$SY" local traffic "$LISTENER" -n 1000 --host api.stage.example.com --json \
  | STATUS="$STATUS" python3 -c '
import json, os, sys
answer, status = json.load(sys.stdin), json.loads(os.environ["STATUS"])
rule = status["rules"][0]
names = {rule["parent_group"]: "stage", rule["canary_group"]: "stage/canary"}
for arn, count in sorted(answer["target_groups"].items(), key=lambda kv: -kv[1]):
    print(f"  {names.get(arn, arn):<13} {count:>4} of {answer['"'"'requests'"'"']} requests  {count / answer['"'"'requests'"'"']:.1%}")'
run apps promote stage/canary -a api --local

bold "13. A release that breaks under traffic: the canary rolls back on its own"
# api:v4 starts healthy; once its first step is read back from the listener, its tasks start
# failing their health checks (the local AWS's health route), as a bad release would.
LOG=$(mktemp)
printf '\033[2m$ %s\033[0m\n' "$SHOWN apps deploy registry.example.com/api:v4 -a api -e stage/canary --local --steps 10,50 --bake 4s --poll 1s"
( CODE=0; "$SY" apps deploy registry.example.com/api:v4 -a api -e stage/canary --local \
    --steps 10,50 --bake 4s --poll 1s 2>&1 || CODE=$?; echo "$CODE" >"$LOG.code" ) | tee "$LOG" &
URL=$("$SY" local status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["url"])')
health() { python3 -c 'import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1] + "/_stackyard/health/images", method="POST",
    data=json.dumps({"image": "registry.example.com/api:v4", "healthy": sys.argv[2] == "ok"}).encode())
urllib.request.urlopen(request).read()' "$URL" "$1"; }
for _ in $(seq 600); do grep -q "step 1/2.*read back" "$LOG" && break; sleep 0.1; done
health failing
echo "  (the local AWS now fails registry.example.com/api:v4's health checks)"
wait
echo "  (exit $(cat "$LOG.code"): a rollback is a failure)"
health ok
run apps canary status -a api -e stage/canary --local

bold "Try next, from the repository's folder (the local AWS keeps running)"
O=examples/ops
cat <<NEXT
  # the demo's local AWS and apps database (kept apart from yours)
  export STACKYARD_HOME=$DEMO_HOME
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
  # the canary: its share, set and read back; what it runs and how healthy it is
  $SHOWN apps canary weight 25% -a api -e stage/canary --local --apps-file $O/apps.yaml
  $SHOWN apps canary status -a api -e stage/canary --local --apps-file $O/apps.yaml
  $SHOWN apps info -a api --apps-file $O/apps.yaml
  # delete everything (asks first), then stop the local AWS
  $SHOWN destroy --local $O/$ENV $O/$CONFIG
  $SHOWN local down
NEXT
