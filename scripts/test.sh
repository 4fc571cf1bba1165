#!/usr/bin/env bash
# Run the workspace tests against PostgreSQL and MariaDB.
#
# Uses TEST_POSTGRES_URL / TEST_MYSQL_URL when they are set and reachable;
# otherwise starts throwaway servers (in a temp dir, on 127.0.0.1) and stops
# them again on exit. Extra arguments are passed to the test runner.
#
#   scripts/test.sh                      # all tests
#   scripts/test.sh -p persistence       # extra args for nextest / cargo test
#   TEST_SKIP_CARGO=1 scripts/test.sh bash -c 'psql "$TEST_POSTGRES_URL"'  # a command instead of cargo
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { echo "test.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a command as a service user (servers refuse to run as root).
as_user() {
    local user=$1; shift
    if is_root; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# Hide the password in a URL: scheme://user:***@host...
mask_url() { sed -E 's#^([^:]+://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

# Is something accepting TCP connections on host:port?
tcp_open() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# host and port of a URL like scheme://user:pass@host:port/db
url_host_port() {
    local rest=${1#*://}
    rest=${rest##*@}
    rest=${rest%%[/?]*}
    local host=${rest%%:*} port=$2
    [[ $rest == *:* ]] && port=${rest##*:}
    echo "${host:-127.0.0.1} $port"
}

# First port from $1 on that nothing listens on.
free_port() {
    local port
    for ((port = $1; port < $1 + 100; port++)); do
        tcp_open 127.0.0.1 "$port" || { echo "$port"; return; }
    done
    die "no free port found near $1"
}

# Path of the first of the given programs found in PATH or an sbin dir.
find_bin() {
    local name dir
    for name in "$@"; do
        if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
        for dir in /usr/sbin /sbin /usr/local/sbin; do
            [[ -x $dir/$name ]] && { echo "$dir/$name"; return; }
        done
    done
    return 1
}

# Debian keeps the PostgreSQL server binaries in /usr/lib/postgresql/<ver>/bin.
pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [[ -n $dir && -x $dir/initdb ]]; then echo "$dir"; return; fi
    dir=$(dirname "$(command -v initdb 2>/dev/null)") || return 1
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] && echo "$dir"
}

postgres_reachable() {
    local hp
    if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=5 psql "$1" -Xqtc 'select 1' >/dev/null 2>&1
    else
        hp=$(url_host_port "$1" 5432); tcp_open ${hp}
    fi
}

mysql_reachable() {
    local hp
    hp=$(url_host_port "$1" 3306); tcp_open ${hp}
}

# --- cleanup: stop whatever this script started -----------------------------

tmp=""
pg_started=""    # set once pg_ctl start has been tried
my_pid=""       # pid of the background mariadbd

stop_mariadb() {
    kill -TERM "$my_pid" 2>/dev/null
    for _ in $(seq 1 150); do   # up to 30 s
        kill -0 "$my_pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$my_pid" 2>/dev/null; then
        log "warning: MariaDB did not stop in time; killing it"
        kill -KILL "$my_pid"
    fi
    wait "$my_pid" 2>/dev/null
}

cleanup() {
    local rc=$?
    set +e
    if [[ -n $pg_started && -f $tmp/pg/data/postmaster.pid ]]; then
        as_user postgres "$PG_BIN/pg_ctl" -D "$tmp/pg/data" -s -m fast -w stop >/dev/null 2>&1 \
            || log "warning: could not stop PostgreSQL"
    fi
    [[ -n $my_pid ]] && stop_mariadb
    [[ -n $tmp ]] && rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_log() {
    local f
    for f in "$@"; do
        [[ -s $f ]] && { log "--- tail of $f:"; tail -n 30 "$f" >&2; }
    done
    return 0
}

make_tmp() {
    [[ -n $tmp ]] && return
    tmp=$(mktemp -d /tmp/persistence-test.XXXXXX)
    chmod 755 "$tmp"   # the service users must be able to traverse it
}

# --- throwaway servers -------------------------------------------------------

start_postgres() {
    local port dir=$tmp/pg
    port=$(free_port 55432)
    mkdir "$dir"
    is_root && chown postgres: "$dir"
    as_user postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
        -E UTF8 --locale=C --no-sync >"$tmp/pg-initdb.log" 2>&1 \
        || { show_log "$tmp/pg-initdb.log"; die "initdb failed"; }
    pg_started=1
    as_user postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null 2>&1 \
        || { show_log "$dir/postgres.log"; die "PostgreSQL did not start"; }
    export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

start_mariadb() {
    local port dir=$tmp/my user_args=()
    port=$(free_port 53306)
    mkdir "$dir"
    if is_root; then chown mysql: "$dir"; user_args=(--user=mysql); fi
    # --no-defaults: ignore /etc/mysql/*.cnf and ~/.my.cnf
    as_user mysql "$MY_INSTALL_DB" --no-defaults "${user_args[@]}" --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db >"$tmp/my-install.log" 2>&1 \
        || { show_log "$tmp/my-install.log"; die "mariadb-install-db failed"; }
    # Started directly, so that $! is mariadbd's pid; as root, mariadbd itself
    # switches to the mysql user (--user=mysql, like mysqld_safe does).
    "$MY_SERVER" --no-defaults "${user_args[@]}" --datadir="$dir/data" --socket="$dir/sock" \
        --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/pid" \
        --log-error="$dir/mariadb.log" --skip-log-bin --skip-name-resolve \
        --max-connections=500 --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=256M \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
        >"$tmp/my-stdout.log" 2>&1 &
    my_pid=$!
    local i
    for ((i = 0; i < 300; i++)); do   # up to 60 s
        "$MY_ADMIN" --no-defaults --socket="$dir/sock" -uroot ping >/dev/null 2>&1 && break
        kill -0 "$my_pid" 2>/dev/null || break
        sleep 0.2
    done
    "$MY_ADMIN" --no-defaults --socket="$dir/sock" -uroot ping >/dev/null 2>&1 \
        || { show_log "$dir/mariadb.log" "$tmp/my-stdout.log"; die "MariaDB did not start"; }
    # A password user for TCP connections, allowed to create/drop databases.
    "$MY_CLIENT" --no-defaults --socket="$dir/sock" -uroot <<'SQL'
CREATE USER 'test'@'127.0.0.1' IDENTIFIED BY 'test';
CREATE USER 'test'@'localhost' IDENTIFIED BY 'test';
GRANT ALL PRIVILEGES ON *.* TO 'test'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'test'@'localhost' WITH GRANT OPTION;
SQL
    export TEST_MYSQL_URL="mysql://test:test@127.0.0.1:$port/mysql"
}

# --- main --------------------------------------------------------------------

SECONDS=0
need_pg="" need_my=""
if [[ -n ${TEST_POSTGRES_URL:-} ]] && postgres_reachable "$TEST_POSTGRES_URL"; then :; else
    [[ -n ${TEST_POSTGRES_URL:-} ]] && log "TEST_POSTGRES_URL=$(mask_url "$TEST_POSTGRES_URL") is not reachable; starting a throwaway server"
    need_pg=1
fi
if [[ -n ${TEST_MYSQL_URL:-} ]] && mysql_reachable "$TEST_MYSQL_URL"; then :; else
    [[ -n ${TEST_MYSQL_URL:-} ]] && log "TEST_MYSQL_URL=$(mask_url "$TEST_MYSQL_URL") is not reachable; starting a throwaway server"
    need_my=1
fi

# Install missing servers (root only), with a single apt-get run.
find_servers() {
    PG_BIN=$(pg_bindir || true)
    MY_SERVER=$(find_bin mariadbd mysqld || true)
    MY_INSTALL_DB=$(find_bin mariadb-install-db mysql_install_db || true)
    MY_ADMIN=$(find_bin mariadb-admin mysqladmin || true)
    MY_CLIENT=$(find_bin mariadb mysql || true)
}
find_servers
missing=()
[[ -n $need_pg && -z $PG_BIN ]] && missing+=(postgresql)
[[ -n $need_my && ( -z $MY_SERVER || -z $MY_INSTALL_DB || -z $MY_ADMIN || -z $MY_CLIENT ) ]] && missing+=(mariadb-server)
if ((${#missing[@]})); then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing[*]}"
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
        find_servers
    else
        die "missing ${missing[*]}: install it (e.g. apt-get install ${missing[*]}) or set TEST_POSTGRES_URL / TEST_MYSQL_URL"
    fi
fi

if [[ -n $need_pg || -n $need_my ]]; then
    make_tmp
    cd "$tmp"   # the service users may not be able to read the current directory
    [[ -n $need_pg ]] && start_postgres
    [[ -n $need_my ]] && start_mariadb
    log "servers ready in ${SECONDS}s (data in $tmp)"
fi
cd "$repo_root"

log "PostgreSQL: $(mask_url "$TEST_POSTGRES_URL")${need_pg:+ (throwaway)}"
log "MariaDB:    $(mask_url "$TEST_MYSQL_URL")${need_my:+ (throwaway)}"

if [[ ${TEST_SKIP_CARGO:-} == 1 ]]; then
    echo "export TEST_POSTGRES_URL='$TEST_POSTGRES_URL'"
    echo "export TEST_MYSQL_URL='$TEST_MYSQL_URL'"
    (($#)) || set -- "${SHELL:-bash}"
    status=0
    "$@" || status=$?
    exit "$status"
fi

status=0
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --profile ci --no-fail-fast "$@" || status=$?
else
    cargo test --workspace --no-fail-fast "$@" || status=$?
fi
cargo test --workspace --doc || status=$?
exit "$status"
