#!/usr/bin/env bash
# README command 1: installs what is missing, builds, starts a seeded
# b24-emulator as a demo Bitrix24 portal and b24gate in front of it, prints
# commands to try, and runs until Ctrl-C.
#
#   PORT=50051   gRPC port of the gateway (default 50051)
#   JOBS=2       build parallelism
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/install-deps.sh
bash scripts/build.sh b24gate b24-emulator

EMULATOR=$ROOT/build/tests/emulator/b24-emulator
GATEWAY=$ROOT/build/service/b24gate
PORT=${PORT:-50051}
# A local secret of the demo portal only; it is never printed.
WEBHOOK_USER=1
WEBHOOK_CODE=demo-webhook-code

LOG_DIR=$(mktemp -d -t b24gate-demo.XXXXXX)
emulator_pid=
gateway_pid=
stop() {
  trap - EXIT INT TERM
  [[ -n $gateway_pid ]] && kill -TERM "$gateway_pid" 2>/dev/null || true
  [[ -n $emulator_pid ]] && kill -TERM "$emulator_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$LOG_DIR"
}
trap 'stop' EXIT
trap 'echo; echo "stopping"; stop; exit 0' INT TERM

# Waits for "listening on HOST:PORT" as the first line of $1 and prints
# HOST:PORT; fails if process $2 exits first.
wait_listening() {
  local file=$1 pid=$2 what=$3 line
  for _ in $(seq 1 600); do
    line=$(sed -n '1s/^listening on //p' "$file" 2>/dev/null)
    if [[ -n $line ]]; then echo "$line"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: $what exited before listening:" >&2
      grep -v "$WEBHOOK_CODE" "${file%.out}.err" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "demo: $what did not start within 60 s" >&2
  return 1
}

"$EMULATOR" --listen 127.0.0.1:0 \
  --seed crm.lead=5000,crm.deal=2000,crm.contact=1500,crm.company=300,tasks.task=500,user=50,crm.item=500 \
  --webhook "$WEBHOOK_USER/$WEBHOOK_CODE" \
  >"$LOG_DIR/emulator.out" 2>"$LOG_DIR/emulator.err" &
emulator_pid=$!
EMU=$(wait_listening "$LOG_DIR/emulator.out" "$emulator_pid" b24-emulator)

"$GATEWAY" --listen "127.0.0.1:$PORT" \
  --portal "demo=http://$EMU/rest/$WEBHOOK_USER/$WEBHOOK_CODE/" \
  >"$LOG_DIR/gateway.out" 2>"$LOG_DIR/gateway.err" &
gateway_pid=$!
if ! GW=$(wait_listening "$LOG_DIR/gateway.out" "$gateway_pid" b24gate); then
  echo "demo: is port $PORT taken? Try PORT=50052 scripts/demo.sh" >&2
  exit 1
fi

S=bitrix24.gateway.v1.GatewayService
CALL='{"method":"crm.lead.list","params":{"filter":{">OPPORTUNITY":5000,"STATUS_ID":"NEW"},"select":["ID","TITLE","OPPORTUNITY"],"order":{"OPPORTUNITY":"DESC"}}}'
GETALL='{"method":"crm.deal.list","params":{"select":["ID","TITLE","STAGE_ID"],"filter":{"CLOSED":"N"}}}'
GETBYID='{"method":"crm.deal.get","ids":[1,2,3,4,5]}'
BATCH='{"halt":true,"commands":[{"key":"last","method":"crm.lead.list","params":{"select":["ID"],"order":{"ID":"DESC"}}},{"key":"lead","method":"crm.lead.get?id=$result[last][0][ID]"}]}'

cat <<EOT

b24gate is listening on $GW, serving the demo portal "demo" (a b24-emulator
at $EMU with 5000 leads, 2000 deals, 1500 contacts, 300 companies,
500 tasks, 50 users and 500 smart-process items).

Try it with buf curl (installed by this script; run from $ROOT):

  npx buf curl --protocol grpc --http2-prior-knowledge http://$GW --list-methods
  npx buf curl --protocol grpc --http2-prior-knowledge http://$GW/grpc.health.v1.Health/Check
  npx buf curl --protocol grpc --http2-prior-knowledge http://$GW/$S/Call -d '$CALL'
  npx buf curl --protocol grpc --http2-prior-knowledge http://$GW/$S/GetAll -d '$GETALL'
  npx buf curl --protocol grpc --http2-prior-knowledge http://$GW/$S/GetById -d '$GETBYID'
  npx buf curl --protocol grpc --http2-prior-knowledge http://$GW/$S/CallBatch -d '$BATCH'

or with grpcurl, if you have it:

  grpcurl -plaintext $GW list
  grpcurl -plaintext $GW grpc.health.v1.Health/Check
  grpcurl -plaintext -d '$CALL' $GW $S/Call
  grpcurl -plaintext -d '$GETALL' $GW $S/GetAll
  grpcurl -plaintext -d '$GETBYID' $GW $S/GetById
  grpcurl -plaintext -d '$BATCH' $GW $S/CallBatch

Press Ctrl-C to stop.
EOT

# Runs until Ctrl-C, or until either process ends on its own.
set +e
wait -n "$emulator_pid" "$gateway_pid"
status=$?
echo "demo: a server exited (status $status); logs:" >&2
grep -hv "$WEBHOOK_CODE" "$LOG_DIR"/*.err >&2
exit 1
