#!/usr/bin/env bash
# The end-to-end demo: installs what is missing, builds Sluice, starts a worker, registers a
# connector from configs/, and shows its events arriving, its status and its metrics.
#
# Today the connector is the built-in `sequence` source (numbered records); the database
# journey — Postgres and MariaDB sources into a Parquet warehouse read by DuckDB — replaces
# it as the sources (#6, #7) and the file sink (#8) land.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
echo "[demo] building sluice (release)"
cargo build --release --locked --quiet
SLUICE=./target/release/sluice

work=$(mktemp -d -t sluice-demo-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SLUICE_SERVER="http://127.0.0.1:${port}"
worker_pid=""
cleanup() {
    if [ -n "$worker_pid" ]; then kill "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "[demo] starting: sluice serve --data-dir $work/data --rest-listen 127.0.0.1:${port}"
"$SLUICE" serve --data-dir "$work/data" --rest-listen "127.0.0.1:${port}" 2>"$work/worker.log" &
worker_pid=$!
for _ in $(seq 1 100); do
    curl -sf "$SLUICE_SERVER/health" >/dev/null && break
    sleep 0.1
done
curl -sf "$SLUICE_SERVER/health" >/dev/null || { echo "worker did not start:"; cat "$work/worker.log"; exit 1; }

echo
echo "[demo] sluice connectors create -f configs/sequence-demo.json"
"$SLUICE" connectors create -f configs/sequence-demo.json
echo
echo "[demo] sluice consume numbers --from-beginning --follow --max-messages 15"
"$SLUICE" consume numbers --from-beginning --follow --max-messages 15
echo
echo "[demo] sluice connectors status numbers"
"$SLUICE" connectors status numbers
echo
echo "[demo] a few lines of GET /metrics"
curl -s "$SLUICE_SERVER/metrics" | grep -E '^sluice_(connector_events_total|topic_end_offset)' || true
echo
echo "[demo] same data through the Kafka Connect REST API: curl $SLUICE_SERVER/connectors?expand=status"
curl -s "$SLUICE_SERVER/connectors?expand=status"; echo
cat <<'NEXT'

What to try next (with `sluice serve` running):
  sluice topics list                          # topics in the embedded broker
  sluice consume numbers --group g --follow   # a consumer group that remembers its place
  sluice connectors stop numbers && sluice connectors offsets numbers --reset
  sluice --help                               # every command
NEXT
