#!/usr/bin/env bash
# The factory-edge story on loopback: headquarters' Mosquitto on 1884, node hq on PostgreSQL, node edge with the
# sensors' broker on 1883; 10,000 sensor writes with mosquitto_pub while headquarters' broker is stopped for the middle
# third; prints how many rows reached PostgreSQL (lost = 0). (The configs coming down are checked by EdgeNodeIT.)
#
#   MQDB=/path/to/mqdb-<version>/bin/mqdb PG_URL=jdbc:postgresql://127.0.0.1:5432/factory PGUSER=mqdb \
#     PGPASSWORD=secret examples/factory-edge/run.sh
#
# Needs mosquitto, mosquitto_pub and psql on the PATH, and a PostgreSQL database the user owns (configs.sql is run
# on it). Runs in a fresh folder under /tmp; stops everything it started on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${MQDB:?set MQDB to the bin/mqdb of an unpacked tarball}" "${PGPASSWORD:?set PGPASSWORD}"
export PG_URL=${PG_URL:-jdbc:postgresql://127.0.0.1:5432/factory} PGUSER=${PGUSER:-mqdb}
psql_url=${PG_URL#jdbc:}
work=$(mktemp -d /tmp/factory-edge.XXXXXX); echo "working in $work"
cp "$here"/*.yaml "$work"/ && cd "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
hq_broker() { mosquitto -p 1884 >mosquitto.log 2>&1 & broker=$!; pids+=("$broker"); sleep 0.5; }
count() { psql "postgresql://$PGUSER:$PGPASSWORD@${psql_url#postgresql://}" -tAc "$1" 2>/dev/null || echo 0; }

psql "postgresql://$PGUSER:$PGPASSWORD@${psql_url#postgresql://}" -q -f "$here/configs.sql"
hq_broker
"$MQDB" run --config hq.yaml >hq.log 2>&1 & pids+=($!)
"$MQDB" run --config edge.yaml >edge.log 2>&1 & pids+=($!)
until grep -q "node edge started" edge.log && grep -q "node hq started" hq.log; do sleep 0.5; done

sensors() { for i in $(seq "$1" "$2"); do
  echo "{\"v\":1,\"op\":\"upsert\",\"row\":{\"id\":$i,\"sensor\":\"s$((i % 7))\",\"value\":$i.5}}"; done |
  mosquitto_pub -p 1883 -q 1 -t mqdb/mqdb/ch/default/sensor_data -l; }
sensors 1 3334
echo "stopping headquarters' broker"; kill -9 "$broker"
sensors 3335 6667
sleep 5
echo "starting headquarters' broker again"; hq_broker
sensors 6668 10000
for _ in $(seq 1 120); do
  n=$(count 'SELECT count(*) FROM "default".sensor_data')
  [ "$n" = 10000 ] && break; sleep 1
done
echo "sensor rows in PostgreSQL: $n of 10000 (lost $((10000 - n)))"
curl -s "localhost:${EDGE_HTTP:-8081}/metrics" | grep -E '^mqdb_published_(events|messages)_total' || true
[ "$n" = 10000 ]
