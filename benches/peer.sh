#!/usr/bin/env bash
# The reference app against its peer: the FastAPI + async SQLAlchemy + aiomysql service in
# benches/peer, both on the same MariaDB (a database each, made and dropped here), both on the
# same SERVER_CORES cores (default 1; the last CPUs), the generator on the others, the same
# load. Prints per scenario both rates and the ratio (see benches/README.md).
#   benches/peer.sh [--seconds S] [--connections N]
# MariaDB: MYSQL_HOST / MYSQL_PORT (127.0.0.1:3306, root, no password). The peer's packages
# go into target/peer-venv (PyPI); the peer runs 2 uvicorn workers, as the seed services did.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

host=${MYSQL_HOST:-127.0.0.1}
port=${MYSQL_PORT:-3306}
venv=target/peer-venv
if [ ! -x "$venv/bin/uvicorn" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r benches/peer/requirements.txt
fi
cargo build --release --locked --quiet -p reference-app -p shop-benches --bins

suffix=$$
ours_db=bench_ours_$suffix
peer_db=bench_peer_$suffix
databases() { # create|drop
    "$venv/bin/python" - "$1" "$host" "$port" "$ours_db" "$peer_db" <<'PY'
import sys, pymysql
action, host, port, *names = sys.argv[1:]
conn = pymysql.connect(host=host, port=int(port), user="root", password="")
with conn.cursor() as c:
    for name in names:
        c.execute(f"DROP DATABASE IF EXISTS `{name}`")
        if action == "create":
            c.execute(f"CREATE DATABASE `{name}`")
PY
}
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh # free_port
# shellcheck source=benches/cores.sh
source benches/cores.sh
server_pin=()
if [ -n "$server_cpus" ]; then
    server_pin=(taskset -c "$server_cpus")
fi

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    databases drop || true
}
trap cleanup EXIT
databases create

password="peer comparison admin passphrase"
ours_port=$(free_port)
peer_port=$(free_port)
env PORT="$ours_port" SHOP_OPS_PORT=0 SHOP_STORE=mysql MYSQL_URL="mysql://root@$host:$port/$ours_db" \
    MYSQL_MAX_CONNECTIONS=16 SHOP_DEMO_DATA=false SHOP_ADMIN_PASSWORD="$password" \
    JWT_SECRET_KEY="peer comparison secret, thirty-two bytes" RUST_LOG=warn \
    MIMALLOC_PURGE_DELAY=0 "${server_pin[@]}" target/release/reference-app \
    >target/peer-ours.log 2>&1 &
pids+=($!)
env PEER_DATABASE_URL="mysql+aiomysql://root@$host:$port/$peer_db" PEER_POOL_SIZE=8 \
    PEER_ADMIN_PASSWORD="$password" "${server_pin[@]}" "$venv/bin/uvicorn" \
    --app-dir benches/peer app:app --host 127.0.0.1 --port "$peer_port" --workers 2 \
    --no-access-log --log-level warning >target/peer-peer.log 2>&1 &
pids+=($!)

"${generator_pin[@]}" target/release/peer-compare --ours "127.0.0.1:$ours_port" \
    --peer "127.0.0.1:$peer_port" --admin-password "$password" "$@"
