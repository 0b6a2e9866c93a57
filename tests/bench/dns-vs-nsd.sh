#!/usr/bin/env bash
# Side-by-side DNS benchmark: synod (-dev, :8600, one serving thread per core) and NSD
# (../shared/peers/dns/nsd.sh, :15353, its server-count 1)
# serving the same records, the same dnsperf load (-c 4 -T 1 -q 100) in the same run.
#   tests/bench/dns-vs-nsd.sh [SECONDS]       (default 10 per server)
# Needs: dnsperf, nsd, curl (apt-get install -y dnsperf nsd curl).
# Prints, per server: queries/s, lost queries, p50/p99 latency (from a second, verbose dnsperf
# pass: dnsperf 2.10 prints no percentiles), then the synod/NSD throughput ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
PEERS=${PEERS:-../shared/peers}
QUERIES=$PEERS/dns/queries.txt
export PEERS_DIR=${PEERS_DIR:-$PWD/target/peers}
WORK=$PEERS_DIR/dns-bench
rm -rf "$WORK"; mkdir -p "$WORK"
HTTP_PORT=${HTTP_PORT:-18650}
DNS_PORT=${DNS_PORT:-8600}
NSD_PORT=15353

command -v dnsperf >/dev/null && command -v nsd >/dev/null || {
  echo "needs dnsperf and nsd: apt-get install -y dnsperf nsd" >&2; exit 1; }
cargo build --release -q -p synod-runtime-smol --bin synod
SYNOD_PID=
cleanup() {
  [ -n "$SYNOD_PID" ] && kill "$SYNOD_PID" 2>/dev/null || true
  bash "$PEERS/dns/nsd.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

./target/release/synod agent -dev -node bench -log-level warn -http-port "$HTTP_PORT" \
  -dns-port "$DNS_PORT" -server-port 18630 -serf-lan-port 18631 -serf-wan-port 18632 >"$WORK/synod.log" 2>&1 &
SYNOD_PID=$!
leader=
for _ in $(seq 100); do
  leader=$(curl -sf "http://127.0.0.1:$HTTP_PORT/v1/status/leader" || true)
  case "$leader" in *:*) break ;; esac
  sleep 0.1
done
case "$leader" in *:*) ;; *) echo "synod did not start; its log:" >&2; cat "$WORK/synod.log" >&2; exit 1 ;; esac
bash tests/bench/dns-register.sh "127.0.0.1:$HTTP_PORT"
bash "$PEERS/dns/nsd.sh" start
sleep 1

# Both must give the same response code to every query before we time them.
for port in "$DNS_PORT" "$NSD_PORT"; do
  dnsperf -s 127.0.0.1 -p "$port" -d "$QUERIES" -n 1 -v 2>/dev/null \
    | awk '/^>/ {print $2, $3, $4}' | sort >"$WORK/answers.$port"
done
diff -u "$WORK/answers.$NSD_PORT" "$WORK/answers.$DNS_PORT" >&2 || { echo "synod and NSD answer differently" >&2; exit 1; }

measure() { # name port -> "qps lost p50_ms p99_ms"
  local out qps lost lat
  out=$(dnsperf -s 127.0.0.1 -p "$2" -d "$QUERIES" -c 4 -T 1 -q 100 -l "$SECS" 2>&1)
  echo "$out" >"$WORK/dnsperf.$1.txt"
  qps=$(echo "$out" | sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p')
  lost=$(echo "$out" | sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p')
  # Latency: a shorter verbose pass, one line per query with its latency in seconds, written
  # to a file and sorted afterwards so no filter competes with the servers for CPU meanwhile.
  dnsperf -s 127.0.0.1 -p "$2" -d "$QUERIES" -c 4 -T 1 -q 100 -l 3 -v >"$WORK/verbose.$1.txt" 2>/dev/null
  lat=$(awk '/^>/ {print $NF}' "$WORK/verbose.$1.txt" | sort -g \
    | awk '{v[NR]=$1} END { if (NR == 0) { print "n/a n/a"; exit }
        i50=int(NR*0.50); if (i50<1) i50=1; i99=int(NR*0.99); if (i99<1) i99=1;
        printf "%.3f %.3f", v[i50]*1000, v[i99]*1000 }')
  echo "$qps $lost $lat"
}

read -r s_qps s_lost s_p50 s_p99 <<<"$(measure synod "$DNS_PORT")"
read -r n_qps n_lost n_p50 n_p99 <<<"$(measure nsd "$NSD_PORT")"
printf '%-6s %12s %6s %9s %9s\n' server queries/s lost p50_ms p99_ms
printf '%-6s %12s %6s %9s %9s\n' synod "$s_qps" "$s_lost" "$s_p50" "$s_p99"
printf '%-6s %12s %6s %9s %9s\n' nsd "$n_qps" "$n_lost" "$n_p50" "$n_p99"
awk -v a="$s_qps" -v b="$n_qps" 'BEGIN { if (b > 0) printf "synod/nsd throughput ratio: %.2f (target >= 0.6)\n", a / b }'

# Health-change lag: a check flips critical/passing through the catalog; time until DNS shows it.
cargo build --release -q -p synod-tests --bin dns_lag_bench
./target/release/dns_lag_bench "127.0.0.1:$HTTP_PORT" "127.0.0.1:$DNS_PORT" 200
