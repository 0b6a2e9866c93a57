#!/usr/bin/env bash
# Side-by-side KV benchmark: synod and etcd on this machine, same load generator, same run.
#   tests/bench/kv-vs-etcd.sh [single|cluster] [DURATION]     (default: cluster, 10s per case)
# Needs: wrk, etcd-server (apt-get install -y etcd-server etcd-client wrk), ../shared/peers.
# Prints one line per case: both figures and the synod/etcd ratio. `cluster` runs 3 servers of
# each on loopback and measures at the leader; `single` runs one durable server of each.
# synod server n listens on n*10000 + PORT_OFFSET + {1500 http, 1300 rpc, 1301 serf, 1600 dns}
# (PORT_OFFSET defaults to 0: 11500, 21500, 31500, ...); set it to run beside another bench,
# keeping every port below 32768 (the kernel's ephemeral range starts there): 0..1100.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-cluster}
DUR=${2:-10s}
PORT_OFFSET=${PORT_OFFSET:-0}
port() { echo $(($1 * 10000 + PORT_OFFSET + $2)); } # server-number offset
PEERS=${PEERS:-../shared/peers}
export PEERS_DIR=${PEERS_DIR:-$PWD/target/peers}
WORK=$PEERS_DIR/synod-bench
rm -rf "$WORK"; mkdir -p "$WORK"

cargo build --release -q -p synod-runtime-smol --bin synod
SYNOD_PIDS=()
cleanup() {
  for pid in "${SYNOD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
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

synod_server() { # n extra-args...
  local n=$1; shift
  ./target/release/synod agent -server -data-dir "$WORK/data$n" -node "bench$n" -bind 127.0.0.1 \
    -http-port "$(port "$n" 1500)" -server-port "$(port "$n" 1300)" \
    -serf-lan-port "$(port "$n" 1301)" -serf-wan-port "$(port "$n" 1302)" -dns-port "$(port "$n" 1600)" \
    "$@" >"$WORK/synod$n.log" 2>&1 &
  SYNOD_PIDS+=($!)
}

if [ "$MODE" = single ]; then
  bash "$PEERS/etcd.sh" single
  ETCD=http://127.0.0.1:2379
  synod_server 1 -bootstrap
  wait_http http://127.0.0.1:2379/version
  SYNOD=http://127.0.0.1:$(port 1 1500)
  wait_http $SYNOD/v1/status/leader
else
  bash "$PEERS/etcd.sh" cluster
  for n in 1 2 3; do
    # retry-join: the first server may not listen yet when the others start.
    synod_server "$n" -bootstrap-expect 3 -retry-join "127.0.0.1:$(port 1 1301)" -retry-interval 1s
  done
  for n in 1 2 3; do wait_http "http://127.0.0.1:${n}2379/version"; done
  # The leader of each: etcd reports it per endpoint; synod's leader RPC port names its node.
  sleep 3
  ETCD=$(for n in 1 2 3; do
      status=$(ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:${n}2379 endpoint status -w json)
      id=$(echo "$status" | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
      leader=$(echo "$status" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
      if [ -n "$id" ] && [ "$id" = "$leader" ]; then echo "http://127.0.0.1:${n}2379"; fi
    done | head -1)
  [ -n "$ETCD" ] || { echo "etcd elected no leader" >&2; exit 1; }
  leader=""
  for _ in $(seq 100); do
    leader=$(curl -sf "http://127.0.0.1:$(port 1 1500)/v1/status/leader" | tr -d '"')
    [ -n "$leader" ] && break; sleep 0.1
  done
  [ -n "$leader" ] || { echo "synod elected no leader" >&2; exit 1; }
  for n in 1 2 3; do [ "${leader##*:}" = "$(port "$n" 1300)" ] && break; done
  SYNOD=http://127.0.0.1:$(port "$n" 1500)
  echo "leaders: etcd $ETCD, synod $SYNOD ($leader)"
fi
curl -s -X PUT -d bar $SYNOD/v1/kv/foo >/dev/null
curl -s -X POST -d '{"key":"Zm9v","value":"YmFy"}' $ETCD/v3/kv/put >/dev/null

compare() { # label etcd-result synod-result
  local er sr ep sp
  er=$(echo "$2" | field rps); sr=$(echo "$3" | field rps)
  ep=$(echo "$2" | field p99_ms); sp=$(echo "$3" | field p99_ms)
  printf '%-34s etcd %9s/s p99 %7s ms | synod %9s/s p99 %7s ms | ratio %s\n' \
    "$1" "$er" "$ep" "$sr" "$sp" "$(ratio "$sr" "$er")"
}

for c in 1 16 64; do
  e=$(run etcd $ETCD kvput.lua etcd "$c")
  s=$(run synod $SYNOD kvput.lua consul "$c")
  compare "durable writes, $c conn" "$e" "$s"
done
e=$(run etcd $ETCD kvget.lua etcd 16)
s=$(run synod $SYNOD kvget.lua consul 16)
compare "reads (etcd linearizable), 16 conn" "$e" "$s"
e=$(run etcd $ETCD kvget.lua etcd-serializable 16)
s=$(run synod $SYNOD kvget.lua consul-stale 16)
compare "reads (serializable/stale), 16 conn" "$e" "$s"
