# shellcheck shell=bash
# Shared by scripts/test and scripts/fleet: find, start or install what the tests and the
# local fleet need. Each ensure_* function either leaves the service reachable (and says
# where), or, under CI=true, exits 1; elsewhere it warns and returns 1.
# Source it from the repository root.

step() { printf '\n==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
in_ci() { [ "${CI:-}" = "true" ]; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for_port() { # host port seconds
    local i
    for ((i = 0; i < $3 * 4; i++)); do
        port_open "$1" "$2" && return 0
        sleep 0.25
    done
    return 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Unreachable: a failure under CI=true, a warning elsewhere.
unavailable() { # what consequence
    if in_ci; then
        echo "error: $1, and CI=true" >&2
        exit 1
    fi
    warn "$1: $2"
    return 1
}

# Installs Debian packages when missing (needs root or sudo).
apt_install() {
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    echo "installing $* (apt-get)"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "$@" >/dev/null ||
        { "${sudo[@]}" apt-get update -qq >/dev/null &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

ensure_mariadb() {
    if [ -n "${MYSQL_URL:-}" ]; then
        echo "MySQL: using MYSQL_URL"
        return
    fi
    if ! port_open 127.0.0.1 3306; then
        if [ -x /usr/sbin/mariadbd ] && command -v start-stop-daemon >/dev/null; then
            echo "MySQL: starting the installed MariaDB"
            start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
            wait_for_port 127.0.0.1 3306 30 || true
        fi
    fi
    if port_open 127.0.0.1 3306; then
        echo "MySQL: MariaDB on 127.0.0.1:3306"
    else
        unavailable "MariaDB is not reachable on 127.0.0.1:3306" "its tests will skip"
    fi
}

ensure_rabbitmq() {
    if [ -n "${RABBITMQ_URL:-}" ]; then
        echo "RabbitMQ: using RABBITMQ_URL"
        return
    fi
    if ! port_open 127.0.0.1 5672 && command -v rabbitmq-server >/dev/null; then
        echo "RabbitMQ: starting the installed broker"
        rabbitmq-server -detached >/dev/null 2>&1 || true
        wait_for_port 127.0.0.1 5672 60 || true
    fi
    if port_open 127.0.0.1 5672; then
        echo "RabbitMQ: on 127.0.0.1:5672"
    else
        unavailable "RabbitMQ is not reachable on 127.0.0.1:5672" "its tests will skip"
    fi
}

# REDIS_URL, else 127.0.0.1:6379, else a private redis-server on a free port (its PID in
# REDIS_PID, its data nowhere), exporting REDIS_URL.
REDIS_PID=""
ensure_redis() { # directory for a private server's files
    if [ -n "${REDIS_URL:-}" ]; then
        echo "Redis: using REDIS_URL"
        return
    fi
    if port_open 127.0.0.1 6379; then
        echo "Redis: on 127.0.0.1:6379"
        return
    fi
    if command -v redis-server >/dev/null; then
        local port
        port=$(free_port)
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no >"$1/redis.log" 2>&1 &
        REDIS_PID=$!
        if wait_for_port 127.0.0.1 "$port" 20; then
            export REDIS_URL="redis://127.0.0.1:$port"
            echo "Redis: started on 127.0.0.1:$port (pid $REDIS_PID)"
            return
        fi
    fi
    unavailable "Redis is not reachable on 127.0.0.1:6379" "its tests will skip"
}

# MONGODB_URI, else SecantusDB (a MongoDB-wire-compatible single node from PyPI) installed
# into target/mongo-venv and started on a free port with in-memory storage; its PID in
# MONGO_PID, MONGODB_URI exported.
MONGO_PID=""
ensure_mongodb() { # log file
    if [ -n "${MONGODB_URI:-}" ]; then
        echo "MongoDB: using MONGODB_URI"
        return
    fi
    local venv=target/mongo-venv
    if [ ! -x "$venv/bin/secantusd-py" ]; then
        echo "MongoDB: installing SecantusDB into $venv"
        if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet SecantusDB; }; then
            unavailable "could not install SecantusDB" "the MongoDB tests will skip"
            return
        fi
    fi
    local port
    port=$(free_port)
    "$venv/bin/secantusd-py" --host 127.0.0.1 --port "$port" --storage-path :memory: \
        --log-level WARNING >"$1" 2>&1 &
    MONGO_PID=$!
    local uri="mongodb://127.0.0.1:$port/?directConnection=true"
    if "$venv/bin/python" - "$uri" <<'PY'; then
import sys, time
from pymongo import MongoClient
deadline = time.time() + 60
while True:
    try:
        MongoClient(sys.argv[1], serverSelectionTimeoutMS=1000).admin.command("ping")
        break
    except Exception:
        if time.time() > deadline:
            sys.exit(1)
        time.sleep(0.25)
PY
        export MONGODB_URI="$uri"
        echo "MongoDB: SecantusDB on 127.0.0.1:$port (pid $MONGO_PID)"
    else
        unavailable "SecantusDB did not answer ping (see $1)" "the MongoDB tests will skip"
    fi
}

ensure_nginx() {
    if ! command -v nginx >/dev/null; then
        apt_install nginx || unavailable "nginx is not installed and could not be" "the fleet cannot start" || return 1
    fi
    echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //')"
}

# POSTGRES_URL, else the server on 127.0.0.1:5432 (never started here: it is the machine's).
ensure_postgres() {
    if [ -n "${POSTGRES_URL:-}" ]; then
        echo "PostgreSQL: using POSTGRES_URL"
        return
    fi
    if port_open 127.0.0.1 5432; then
        echo "PostgreSQL: on 127.0.0.1:5432"
    else
        unavailable "PostgreSQL is not reachable on 127.0.0.1:5432" "its tests will skip"
    fi
}

ensure_psql_client() {
    command -v psql >/dev/null || apt_install postgresql-client ||
        unavailable "no psql client and none could be installed" "the fleet cannot create its database"
}

ensure_mysql_client() {
    command -v mysql >/dev/null || apt_install mariadb-client ||
        unavailable "no mysql client and none could be installed" "the fleet cannot create its database"
}
