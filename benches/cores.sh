# shellcheck shell=bash
# Sourced by benches/load.sh and benches/peer.sh. SERVER_CORES=N (default 1): the servers get
# the last N CPUs (`server_cpus`, a taskset list) and the generator the others
# (`generator_pin`, a command prefix) — when there are more CPUs than that and taskset exists;
# otherwise both stay empty and nothing is pinned.
server_cpus=""
generator_pin=()
cores=${SERVER_CORES:-1}
cpus=$(nproc)
if command -v taskset >/dev/null && [ "$cpus" -gt "$cores" ]; then
    server_cpus="$((cpus - cores))-$((cpus - 1))"
    generator_pin=(taskset -c "0-$((cpus - cores - 1))")
fi
