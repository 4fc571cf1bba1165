#!/usr/bin/env bash
# Run the workspace tests against PostgreSQL and MariaDB.
#
# Uses TEST_POSTGRES_URL / TEST_MYSQL_URL when they are set and reachable;
# otherwise starts throwaway servers (in a temp dir, on 127.0.0.1) and stops
# them again on exit. Extra arguments are passed to the test runner.
#
# For the TLS tests it also makes a self-signed certificate authority and a
# server certificate for 127.0.0.1 / localhost (openssl), and starts a
# second PostgreSQL and MariaDB with TLS on, unless TEST_POSTGRES_TLS_URL /
# TEST_MYSQL_TLS_URL / TEST_TLS_CA are set: it exports those three (the
# URLs without any TLS parameter), TEST_TLS_OTHER_CA (a CA that did not
# sign the servers' certificate) and TEST_PG_BINDIR (for tests that start
# and kill a server of their own).
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
pg_tls_started=""
my_tls_pid=""

stop_mariadb() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 150); do   # up to 30 s
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "warning: MariaDB did not stop in time; killing it"
        kill -KILL "$pid"
    fi
    wait "$pid" 2>/dev/null
}

cleanup() {
    local rc=$?
    set +e
    local d
    for d in ${pg_started:+pg} ${pg_tls_started:+pg-tls}; do
        if [[ -f $tmp/$d/data/postmaster.pid ]]; then
            as_user postgres "$PG_BIN/pg_ctl" -D "$tmp/$d/data" -s -m fast -w stop >/dev/null 2>&1 \
                || log "warning: could not stop PostgreSQL ($d)"
        fi
    done
    [[ -n $my_pid ]] && stop_mariadb "$my_pid"
    [[ -n $my_tls_pid ]] && stop_mariadb "$my_tls_pid"
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

# start_postgres NAME [extra server options...]: sets PG_URL.
start_postgres() {
    local name=$1 port dir=$tmp/$1
    shift
    port=$(free_port 55432)
    mkdir "$dir"
    is_root && chown postgres: "$dir"
    as_user postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
        -E UTF8 --locale=C --no-sync >"$tmp/$name-initdb.log" 2>&1 \
        || { show_log "$tmp/$name-initdb.log"; die "initdb failed"; }
    if [[ $name == pg ]]; then pg_started=1; else pg_tls_started=1; fi
    as_user postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 $*" \
        start >/dev/null 2>&1 \
        || { show_log "$dir/postgres.log"; die "PostgreSQL did not start"; }
    PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# start_mariadb NAME [extra server options...]: sets MY_URL and MY_PID.
start_mariadb() {
    local name=$1 port dir=$tmp/$1 user_args=()
    shift
    port=$(free_port 53306)
    mkdir "$dir"
    if is_root; then chown mysql: "$dir"; user_args=(--user=mysql); fi
    # --no-defaults: ignore /etc/mysql/*.cnf and ~/.my.cnf
    as_user mysql "$MY_INSTALL_DB" --no-defaults "${user_args[@]}" --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db >"$tmp/$name-install.log" 2>&1 \
        || { show_log "$tmp/$name-install.log"; die "mariadb-install-db failed"; }
    # Started directly, so that $! is mariadbd's pid; as root, mariadbd itself
    # switches to the mysql user (--user=mysql, like mysqld_safe does).
    "$MY_SERVER" --no-defaults "${user_args[@]}" --datadir="$dir/data" --socket="$dir/sock" \
        --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/pid" \
        --log-error="$dir/mariadb.log" --skip-log-bin --skip-name-resolve \
        --max-connections=500 --innodb-flush-log-at-trx-commit=0 \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci "$@" \
        >"$tmp/$name-stdout.log" 2>&1 &
    MY_PID=$!
    if [[ $name == my ]]; then my_pid=$MY_PID; else my_tls_pid=$MY_PID; fi
    local i
    for ((i = 0; i < 300; i++)); do   # up to 60 s
        "$MY_ADMIN" --no-defaults --socket="$dir/sock" -uroot ping >/dev/null 2>&1 && break
        kill -0 "$MY_PID" 2>/dev/null || break
        sleep 0.2
    done
    "$MY_ADMIN" --no-defaults --socket="$dir/sock" -uroot ping >/dev/null 2>&1 \
        || { show_log "$dir/mariadb.log" "$tmp/$name-stdout.log"; die "MariaDB did not start"; }
    # A password user for TCP connections, allowed to create/drop databases.
    "$MY_CLIENT" --no-defaults --socket="$dir/sock" -uroot <<'SQL'
CREATE USER 'test'@'127.0.0.1' IDENTIFIED BY 'test';
CREATE USER 'test'@'localhost' IDENTIFIED BY 'test';
GRANT ALL PRIVILEGES ON *.* TO 'test'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'test'@'localhost' WITH GRANT OPTION;
SQL
    MY_URL="mysql://test:test@127.0.0.1:$port/mysql"
}

# A certificate authority, a server certificate it signs for 127.0.0.1 and
# localhost, and a second CA that signs nothing, in $tmp/tls.
make_certificates() {
    local dir=$tmp/tls
    command -v openssl >/dev/null 2>&1 || die "openssl is needed for the TLS tests (apt-get install openssl)"
    mkdir "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=persistence test CA" \
            -keyout ca.key -out ca.pem
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=persistence other CA" \
            -keyout other-ca.key -out other-ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile server.ext -out server.pem
    ) >"$tmp/tls.log" 2>&1 || { show_log "$tmp/tls.log"; die "making certificates failed"; }
    # Each server reads its own copy: PostgreSQL wants its key private to it.
    local user
    for user in postgres mysql; do
        mkdir "$dir/$user"
        cp "$dir/server.pem" "$dir/server.key" "$dir/ca.pem" "$dir/$user/"
        chmod 600 "$dir/$user/server.key"
        is_root && chown -R "$user": "$dir/$user"
    done
    chmod 755 "$dir"
    chmod 644 "$dir/ca.pem" "$dir/other-ca.pem"
    export TEST_TLS_CA="$dir/ca.pem" TEST_TLS_OTHER_CA="$dir/other-ca.pem"
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
need_tls=""
if [[ -n ${TEST_POSTGRES_TLS_URL:-} && -n ${TEST_MYSQL_TLS_URL:-} && -f ${TEST_TLS_CA:-} ]]; then :; else
    need_tls=1
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
[[ ( -n $need_pg || -n $need_tls ) && -z $PG_BIN ]] && missing+=(postgresql)
[[ ( -n $need_my || -n $need_tls ) && ( -z $MY_SERVER || -z $MY_INSTALL_DB || -z $MY_ADMIN || -z $MY_CLIENT ) ]] && missing+=(mariadb-server)
[[ -n $need_tls ]] && ! command -v openssl >/dev/null 2>&1 && missing+=(openssl)
if ((${#missing[@]})); then
    if is_root && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing[*]}"
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
        find_servers
    else
        die "missing ${missing[*]}: install it (e.g. apt-get install ${missing[*]}) or set TEST_POSTGRES_URL / TEST_MYSQL_URL"
    fi
fi

if [[ -n $need_pg || -n $need_my || -n $need_tls ]]; then
    make_tmp
    cd "$tmp"   # the service users may not be able to read the current directory
    if [[ -n $need_pg ]]; then start_postgres pg; export TEST_POSTGRES_URL=$PG_URL; fi
    if [[ -n $need_my ]]; then
        start_mariadb my --innodb-buffer-pool-size=256M
        export TEST_MYSQL_URL=$MY_URL
    fi
    if [[ -n $need_tls ]]; then
        make_certificates
        start_postgres pg-tls -c ssl=on -c "ssl_cert_file=$tmp/tls/postgres/server.pem" \
            -c "ssl_key_file=$tmp/tls/postgres/server.key" -c max_connections=50
        export TEST_POSTGRES_TLS_URL=$PG_URL
        start_mariadb my-tls --innodb-buffer-pool-size=32M \
            --ssl-cert="$tmp/tls/mysql/server.pem" --ssl-key="$tmp/tls/mysql/server.key" \
            --ssl-ca="$tmp/tls/mysql/ca.pem"
        export TEST_MYSQL_TLS_URL=$MY_URL
    fi
    log "servers ready in ${SECONDS}s (data in $tmp)"
fi
cd "$repo_root"
[[ -n ${PG_BIN:-} ]] && export TEST_PG_BINDIR=${TEST_PG_BINDIR:-$PG_BIN}

log "PostgreSQL: $(mask_url "$TEST_POSTGRES_URL")${need_pg:+ (throwaway)}"
log "MariaDB:    $(mask_url "$TEST_MYSQL_URL")${need_my:+ (throwaway)}"
log "TLS:        $(mask_url "$TEST_POSTGRES_TLS_URL"), $(mask_url "$TEST_MYSQL_TLS_URL")${need_tls:+ (throwaway)}, CA $TEST_TLS_CA"

if [[ ${TEST_SKIP_CARGO:-} == 1 ]]; then
    echo "export TEST_POSTGRES_URL='$TEST_POSTGRES_URL'"
    echo "export TEST_MYSQL_URL='$TEST_MYSQL_URL'"
    echo "export TEST_POSTGRES_TLS_URL='$TEST_POSTGRES_TLS_URL'"
    echo "export TEST_MYSQL_TLS_URL='$TEST_MYSQL_TLS_URL'"
    echo "export TEST_TLS_CA='$TEST_TLS_CA'"
    echo "export TEST_TLS_OTHER_CA='${TEST_TLS_OTHER_CA:-}'"
    echo "export TEST_PG_BINDIR='${TEST_PG_BINDIR:-}'"
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
