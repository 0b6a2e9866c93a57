#!/usr/bin/env bash
# Catalog benchmark on 3 synod servers next to a 3-node etcd cluster, same machine, same run:
#   tests/bench/catalog-vs-etcd.sh [SERVICES] [DURATION] [cluster|single]
#   (default: 10000 services, 10s, 3 servers of each; `single` runs one server of each)
# 1. registers SERVICES × 3 instances (one passing check each) through /v1/catalog/register at
#    the leader with 64 connections: instances/s (target >= 5,000);
# 2. memory per registered instance: the leader's RSS growth / instances (target <= 2 KiB);
# 3. /v1/health/service/<name>?passing at 64 connections vs etcd range reads at 64 connections
#    (target >= 2x etcd's reads/s), default and stale/serializable, with p99.
# Needs: wrk, etcd-server, etcd-client, curl, ../shared/peers.
set -euo pipefail
cd "$(dirname "$0")/../.."
SERVICES=${1:-10000}
DUR=${2:-10s}
MODE=${3:-cluster}
PEERS=${PEERS:-$(cd .. && pwd)/shared/peers}
[ -d "$PEERS" ] || PEERS=/work/shared/peers
BENCH=$PWD/tests/bench
export PEERS_DIR=${PEERS_DIR:-$PWD/target/peers}
WORK=$PEERS_DIR/synod-catalog-bench
rm -rf "$WORK"; mkdir -p "$WORK"
TARGET=${CARGO_TARGET_DIR:-$PWD/target}

cargo build --release -q -p synod-runtime-smol --bin synod -p synod-tests --bin catalog_bench
SYNOD_PIDS=()
cleanup() {
  for pid in "${SYNOD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  local etcd_pids
  etcd_pids=$(cat "$PEERS_DIR"/etcd/*.pid 2>/dev/null || true)
  bash "$PEERS/etcd.sh" stop >/dev/null 2>&1 || true
  # etcd takes a while to exit; the next run's cluster must not meet this one's members.
  for pid in $etcd_pids; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
}
trap cleanup EXIT

wait_http() { for _ in $(seq 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

synod_server() { # n [join-args...]
  local n=$1; shift
  "$TARGET/release/synod" agent -server -data-dir "$WORK/data$n" -node "cbench$n" -bind 127.0.0.1 \
    -http-port "2${n}500" -server-port "2${n}300" -serf-lan-port "2${n}301" -serf-wan-port "2${n}302" -dns-port -1 \
    "$@" >"$WORK/synod$n.log" 2>&1 &
  SYNOD_PIDS+=($!)
}

if [ "$MODE" = single ]; then
  bash "$PEERS/etcd.sh" single
  synod_server 1 -bootstrap
  wait_http http://127.0.0.1:2379/version
  ETCD=http://127.0.0.1:2379
  wait_http http://127.0.0.1:21500/v1/status/leader
  sleep 2
  SYNOD=127.0.0.1:21500
  LEADER_PID=${SYNOD_PIDS[0]}
  leader=single
else
  bash "$PEERS/etcd.sh" cluster
  synod_server 1 -bootstrap-expect 3
  for n in 2 3; do
    synod_server "$n" -bootstrap-expect 3 -retry-join 127.0.0.1:21301 -retry-interval 1s
  done
  for n in 1 2 3; do wait_http "http://127.0.0.1:${n}2379/version"; done
  sleep 3
  ETCD=$(for n in 1 2 3; do
      status=$(ETCDCTL_API=3 etcdctl --endpoints=127.0.0.1:${n}2379 endpoint status -w json)
      id=$(echo "$status" | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
      leader=$(echo "$status" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
      if [ -n "$id" ] && [ "$id" = "$leader" ]; then echo "http://127.0.0.1:${n}2379"; fi
    done | head -1)
  [ -n "$ETCD" ] || { echo "etcd elected no leader" >&2; exit 1; }
  leader=""
  for _ in $(seq 200); do
    leader=$(curl -sf http://127.0.0.1:21500/v1/status/leader | tr -d '"' || true)
    [ -n "$leader" ] && break; sleep 0.1
  done
  [ -n "$leader" ] || { echo "synod elected no leader" >&2; exit 1; }
  n=${leader##*:2}; n=${n%300}
  SYNOD=127.0.0.1:2${n}500
  LEADER_PID=${SYNOD_PIDS[$((n - 1))]}
fi
echo "leaders: etcd $ETCD, synod http://$SYNOD ($leader, pid $LEADER_PID)"
# Let the leader's own bookkeeping (serfHealth, consul service) settle before measuring RSS.
sleep 2
before=$(rss_kib "$LEADER_PID")

result=$("$TARGET/release/catalog_bench" "$SYNOD" "$SERVICES" 3 64 | grep RESULT)
instances=$((SERVICES * 3))
echo "registration through the catalog API ($MODE), 64 conn: $instances instances," \
  "$(echo "$result" | field per_s) instances/s, p99 $(echo "$result" | field p99_ms) ms," \
  "$(echo "$result" | field retries) retried (target >= 5000/s)"
sleep 2
after=$(rss_kib "$LEADER_PID")
awk -v b="$before" -v a="$after" -v n="$instances" 'BEGIN {
  printf "leader RSS %d KiB -> %d KiB: %.0f bytes per instance with one check (target <= 2048)\n",
    b, a, (a - b) * 1024 / n }'

curl -s -X POST -d '{"key":"Zm9v","value":"YmFy"}' "$ETCD/v3/kv/put" >/dev/null
compare() { # label etcd-result synod-result
  local er sr ep sp
  er=$(echo "$2" | field rps); sr=$(echo "$3" | field rps)
  ep=$(echo "$2" | field p99_ms); sp=$(echo "$3" | field p99_ms)
  printf '%-44s etcd %9s/s p99 %7s ms | synod %9s/s p99 %7s ms | ratio %s\n' \
    "$1" "$er" "$ep" "$sr" "$sp" "$(ratio "$sr" "$er")"
}
e=$(wrk -t2 -c64 -d"$DUR" --latency -s "$PEERS/wrk/kvget.lua" "$ETCD" -- etcd | grep RESULT)
s=$(wrk -t2 -c64 -d"$DUR" --latency -s "$BENCH/health_service.lua" "http://$SYNOD" -- "$SERVICES" | grep RESULT)
compare "health/service?passing vs linearizable range" "$e" "$s"
e=$(wrk -t2 -c64 -d"$DUR" --latency -s "$PEERS/wrk/kvget.lua" "$ETCD" -- etcd-serializable | grep RESULT)
s=$(wrk -t2 -c64 -d"$DUR" --latency -s "$BENCH/health_service.lua" "http://$SYNOD" -- "$SERVICES" stale | grep RESULT)
compare "health/service?passing&stale vs serializable" "$e" "$s"
echo "non-2xx: $(echo "$s" | field non2xx)"
