#!/usr/bin/env bash
# The load harness: builds the reference app, the bare hyper baseline and the generator in
# release, pins the servers to SERVER_CORES cores (default 1) and the generator to the others
# (when there are more and taskset exists), and prints the table (see benches/README.md).
# Extra arguments go to the harness, e.g. `benches/load.sh --seconds 5 --connections 16`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --locked --quiet -p reference-app -p shop-benches --bins
# shellcheck source=benches/cores.sh
source benches/cores.sh
server_cpu=()
if [ -n "$server_cpus" ]; then
    server_cpu=(--server-cpu "$server_cpus")
fi
exec "${generator_pin[@]}" target/release/load-harness \
    --app target/release/reference-app --hello target/release/hello-baseline \
    "${server_cpu[@]}" "$@"
