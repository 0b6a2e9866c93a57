#!/usr/bin/env bash
# Side-by-side KV benchmark: synod and etcd on this machine, same load generator, same run.
#   tests/bench/kv-vs-etcd.sh [DURATION]     (default 10s per case)
# Needs: wrk, etcd-server (apt-get install -y etcd-server etcd-client wrk), ../shared/peers.
# Prints one RESULT line per case and the synod/etcd ratio. Both run as a single durable server:
# synod cannot form multi-server clusters until gossip joining lands.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${1:-10s}
PEERS=${PEERS:-../shared/peers}
export PEERS_DIR=${PEERS_DIR:-$PWD/target/peers}
WORK=$PEERS_DIR/synod-bench
rm -rf "$WORK"; mkdir -p "$WORK"

cargo build --release -q -p synod-runtime-smol --bin synod
SYNOD_PID=""
cleanup() {
  [ -n "$SYNOD_PID" ] && kill "$SYNOD_PID" 2>/dev/null || true
  bash "$PEERS/etcd.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

wait_http() { for _ in $(seq 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# rps and p99 from wrk's RESULT line
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
run() { # name url script mode conns
  local t=2; [ "$5" -lt 2 ] && t=1
  wrk -t"$t" -c"$5" -d"$DUR" --latency -s "$PEERS/wrk/$3" "$2" -- "$4" | grep RESULT
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

bash "$PEERS/etcd.sh" single
./target/release/synod agent -server -bootstrap -data-dir "$WORK/data" -node bench \
  -http-port 18500 -server-port 18300 -dns-port 18600 >"$WORK/synod.log" 2>&1 &
SYNOD_PID=$!
wait_http http://127.0.0.1:2379/version
wait_http http://127.0.0.1:18500/v1/status/leader
curl -s -X PUT -d bar http://127.0.0.1:18500/v1/kv/foo >/dev/null
curl -s -X POST -d '{"key":"Zm9v","value":"YmFy"}' http://127.0.0.1:2379/v3/kv/put >/dev/null

compare() { # label etcd-result synod-result
  local er sr ep sp
  er=$(echo "$2" | field rps); sr=$(echo "$3" | field rps)
  ep=$(echo "$2" | field p99_ms); sp=$(echo "$3" | field p99_ms)
  printf '%-34s etcd %9s/s p99 %7s ms | synod %9s/s p99 %7s ms | ratio %s\n' \
    "$1" "$er" "$ep" "$sr" "$sp" "$(ratio "$sr" "$er")"
}

for c in 1 16 64; do
  e=$(run etcd http://127.0.0.1:2379 kvput.lua etcd "$c")
  s=$(run synod http://127.0.0.1:18500 kvput.lua consul "$c")
  compare "durable writes, $c conn" "$e" "$s"
done
e=$(run etcd http://127.0.0.1:2379 kvget.lua etcd 16)
s=$(run synod http://127.0.0.1:18500 kvget.lua consul 16)
compare "reads (etcd linearizable), 16 conn" "$e" "$s"
e=$(run etcd http://127.0.0.1:2379 kvget.lua etcd-serializable 16)
s=$(run synod http://127.0.0.1:18500 kvget.lua consul-stale 16)
compare "reads (serializable/stale), 16 conn" "$e" "$s"
