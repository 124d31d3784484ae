#!/usr/bin/env bash
# Product by ID through nginx with 1 and with 3 replicas of the release build (scripts/fleet:
# MariaDB, MongoDB, RabbitMQ, Redis on this machine), and straight to one replica for the
# cost of the proxy hop. The generator is pinned to CPU 0 when there are two or more CPUs and
# taskset exists; everything else (nginx, replicas, MariaDB) runs where the kernel puts it.
# Extra arguments go to the generator, e.g. `benches/fleet.sh --seconds 5 --runs 5`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --locked --quiet -p reference-app -p shop-benches --bins
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin=(taskset -c 0)
fi
name=bench
trap 'scripts/fleet down --name $name >/dev/null 2>&1 || true' EXIT

for replicas in 1 3; do
    scripts/fleet up --name "$name" --replicas "$replicas" --bin target/release/reference-app >/dev/null
    env=$(scripts/fleet env --name "$name")
    setting() { sed -n "s/^$1=//p" <<<"$env"; }
    url=$(setting URL)
    token=$(curl -fsS -X POST -H 'content-type: application/json' \
        -d "{\"email\":\"$(setting ADMIN_EMAIL)\",\"password\":\"$(setting ADMIN_PASSWORD)\"}" \
        "$url/api/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    id=$(curl -fsS -X POST -H 'content-type: application/json' -H "authorization: Bearer $token" \
        -d '{"sku":"BENCH-1","name":"Bench mug","price_minor":1250,"currency":"EUR","stock":1000}' \
        "$url/api/products" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    targets=("nginx, $replicas replica(s)=${url#http://}")
    [ "$replicas" -eq 1 ] && targets+=("replica 1 directly (no proxy)=127.0.0.1:$(setting PORT_1)")
    echo
    echo "## $replicas replica(s)"
    "${pin[@]}" target/release/fleet-load --path "/api/products/$id" "$@" "${targets[@]}"
    scripts/fleet down --name "$name" >/dev/null
done
