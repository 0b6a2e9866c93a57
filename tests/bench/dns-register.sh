#!/usr/bin/env bash
# Registers in synod the records of ../shared/peers/dns/consul.zone (the zone NSD serves), so
# both servers answer tests/bench's queries.txt alike:
#   nodes node1..node3 (10.0.0.1-3) running web on 8080, and node9 (10.0.0.9) running db.
#   tests/bench/dns-register.sh [HTTP_ADDR]       (default 127.0.0.1:8500)
set -euo pipefail
HTTP=${1:-127.0.0.1:8500}
register() { # body
  local out
  out=$(curl -sf -X PUT --data "$1" "http://$HTTP/v1/catalog/register")
  [ "$out" = true ] || { echo "register failed: $1 -> $out" >&2; exit 1; }
}
for n in 1 2 3; do
  register "{\"Node\":\"node$n\",\"Address\":\"10.0.0.$n\",
    \"Service\":{\"ID\":\"web\",\"Service\":\"web\",\"Port\":8080},
    \"Check\":{\"CheckID\":\"web-alive\",\"Name\":\"web alive\",\"Status\":\"passing\",\"ServiceID\":\"web\"}}"
done
register '{"Node":"node9","Address":"10.0.0.9","Service":{"ID":"db","Service":"db","Port":5432}}'
