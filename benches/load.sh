#!/usr/bin/env bash
# The load harness: builds the reference app, the bare hyper baseline and the generator in
# release, pins the servers to one core and the generator to another (when there are two and
# taskset exists), and prints the table (see benches/README.md).
# Extra arguments go to the harness, e.g. `benches/load.sh --seconds 5 --connections 16`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --locked --quiet -p reference-app -p shop-benches --bins
pin=()
server_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin=(taskset -c 0)
    server_cpu=(--server-cpu 1)
fi
exec "${pin[@]}" target/release/load-harness \
    --app target/release/reference-app --hello target/release/hello-baseline \
    "${server_cpu[@]}" "$@"
