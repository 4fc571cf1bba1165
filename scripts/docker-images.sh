#!/usr/bin/env bash
# Build local PostgreSQL and MariaDB images from Debian's packages, for the
# testcontainers path of the tests (no container registry is needed).
#
#   scripts/docker-images.sh            # build what is missing or stale, print the image names
#   scripts/docker-images.sh --force    # rebuild both images
#
# How: debootstrap makes a minimal Debian root filesystem (cached as a
# tarball), the server package is installed into a copy of it with chroot,
# an entrypoint is added, and the tree is `docker import`ed with that
# entrypoint. The entrypoints behave as the official images do for what the
# testcontainers modules use: the same environment variables
# (POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / POSTGRES_HOST_AUTH_METHOD;
# MARIADB_ROOT_PASSWORD / MARIADB_ALLOW_EMPTY_ROOT_PASSWORD / MARIADB_DATABASE /
# MARIADB_USER / MARIADB_PASSWORD, and their MYSQL_* spellings), the same
# ports (5432, 3306), the same readiness lines in the log, and extra server
# options as the command (`-c fsync=off`, `--max-connections=500`).
#
# Images are tagged with the packaged server version
# (persistence-test/postgres:15, persistence-test/mariadb:10.11) and labelled
# with a hash of this script; an image whose label matches is kept. The last
# lines printed are `export TEST_POSTGRES_IMAGE=...` / `export TEST_MYSQL_IMAGE=...`.
#
# Needs root, a running Docker engine (DOCKER_HOST is honoured) and
# debootstrap (installed with apt-get when missing).
set -euo pipefail

log() { echo "docker-images.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

SUITE=${IMAGE_SUITE:-bookworm}
MIRROR=${IMAGE_MIRROR:-http://deb.debian.org/debian}
CACHE=${IMAGE_CACHE:-/var/cache/persistence-test-images}
REPO=${IMAGE_REPOSITORY:-persistence-test}
force=""
[[ ${1:-} == --force ]] && force=1

[[ $(id -u) -eq 0 ]] || die "run as root (debootstrap and chroot need it)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd, or set DOCKER_HOST)"
if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
recipe=$(sha256sum "$script_dir/docker-images.sh" | cut -c1-16)
mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/build.XXXXXX")
cleanup() {
    local dir
    for dir in "$work"/*/; do
        [[ -d $dir/proc ]] && mountpoint -q "$dir/proc" && umount "$dir/proc"
    done
    rm -rf "$work"
}
trap cleanup EXIT

# --- the base root filesystem, cached ---------------------------------------

base_tar=$CACHE/$SUITE-minbase.tar
if [[ ! -s $base_tar ]]; then
    log "debootstrap $SUITE (minbase) from $MIRROR; cached in $base_tar"
    SECONDS=0
    debootstrap --variant=minbase "$SUITE" "$work/base" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
        || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$work/base/var/cache/apt/archives"/*.deb "$work/base/var/lib/apt/lists"/*
    tar -C "$work/base" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
    rm -rf "$work/base"
    log "base root filesystem ready in ${SECONDS}s"
fi

# Installs packages into a fresh copy of the base tree at $1.
install_into() {
    local root=$1; shift
    mkdir -p "$root"
    tar -C "$root" -xf "$base_tar"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # No service may start inside the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    mount -t proc proc "$root/proc"
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $* >/dev/null" \
        >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; umount "$root/proc"; die "installing $* failed"; }
    umount "$root/proc"
    chroot "$root" apt-get clean
    rm -rf "$root/var/lib/apt/lists"/* "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf" \
        "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info"
    : >"$root/etc/resolv.conf"
}

# Whether $1 exists with this recipe's label.
up_to_date() {
    [[ -z $force ]] || return 1
    [[ $(docker image inspect -f '{{ index .Config.Labels "persistence.recipe" }}' "$1" 2>/dev/null) == "$recipe" ]]
}

# docker import of the tree at $1 as image $2 (entrypoint, command, port, environment).
import_tree() {
    local root=$1 image=$2 port=$3 cmd=$4; shift 4
    local changes=(
        --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]'
        --change "CMD [\"$cmd\"]"
        --change "EXPOSE $port"
        --change "LABEL persistence.recipe=$recipe"
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8'
    )
    local env
    for env in "$@"; do changes+=(--change "ENV $env"); done
    tar -C "$root" -c . | docker import "${changes[@]}" - "$image" >/dev/null
    log "built $image ($(docker image inspect -f '{{ .Size }}' "$image" | awk '{ printf "%d MB", $1 / 1e6 }'))"
}

# --- PostgreSQL --------------------------------------------------------------

build_postgres() {
    local root=$work/postgres version image
    install_into "$root" postgresql
    version=$(ls "$root/usr/lib/postgresql" | sort -V | tail -n 1)
    # Debian's package made a "main" cluster; the entrypoint makes its own.
    rm -rf "$root/etc/postgresql/$version" "$root/var/lib/postgresql/$version"
    write_postgres_entrypoint "$root/usr/local/bin/docker-entrypoint.sh" "$version"
    mkdir -p "$root/docker-entrypoint-initdb.d" "$root/var/lib/postgresql/data" "$root/var/run/postgresql"
    chroot "$root" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
    image=$REPO/postgres:$version
    import_tree "$root" "$image" 5432 postgres "PGDATA=/var/lib/postgresql/data" \
        "PG_MAJOR=$version"
    rm -rf "$root"
    POSTGRES_IMAGE=$image
}

write_postgres_entrypoint() {
    cat >"$1" <<EOF
#!/bin/bash
# Initialises a cluster on first start and runs PostgreSQL in the foreground,
# as the official image does (same variables, same log lines).
set -euo pipefail
BIN=/usr/lib/postgresql/$2/bin
EOF
    cat >>"$1" <<'EOF'
export PATH=$BIN:$PATH
if [[ ${1:-} == -* ]]; then set -- postgres "$@"; fi
if [[ ${1:-} != postgres ]]; then exec "$@"; fi
shift

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"

as_postgres() { runuser -u postgres -- "$@"; }

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    if [[ -z ${POSTGRES_PASSWORD:-} && ${POSTGRES_HOST_AUTH_METHOD:-} != trust ]]; then
        echo "error: database is uninitialized and superuser password is not specified." >&2
        echo "       set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    chown postgres "$pwfile"
    # shellcheck disable=SC2086
    as_postgres initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" \
        -E UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
    rm -f "$pwfile"
    auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

    # A temporary server on the socket only, for the database and the init scripts.
    as_postgres pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -k /var/run/postgresql" start
    psql=(psql -v ON_ERROR_STOP=1 -h /var/run/postgresql --username "$POSTGRES_USER" --no-password --no-psqlrc)
    if [[ $POSTGRES_DB != postgres ]]; then
        as_postgres "${psql[@]}" --dbname postgres -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sh) echo "running $f"; . "$f" ;;
            *.sql) echo "running $f"; as_postgres "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
            *) ;;
        esac
    done
    as_postgres pg_ctl -D "$PGDATA" -m fast -w stop
    echo
    echo "PostgreSQL init process complete; ready for start up."
    echo
fi

exec runuser -u postgres -- postgres -D "$PGDATA" "$@"
EOF
    chmod 755 "$1"
}

# --- MariaDB -----------------------------------------------------------------

build_mariadb() {
    local root=$work/mariadb version image
    install_into "$root" mariadb-server
    version=$(chroot "$root" mariadbd --version | sed -E 's/.*Ver ([0-9]+\.[0-9]+).*/\1/')
    [[ $version =~ ^[0-9]+\.[0-9]+$ ]] || die "cannot tell the MariaDB version ($version)"
    rm -rf "$root/var/lib/mysql"
    mkdir -p "$root/var/lib/mysql" "$root/run/mysqld" "$root/docker-entrypoint-initdb.d"
    chroot "$root" chown -R mysql:mysql /var/lib/mysql /run/mysqld
    write_mariadb_entrypoint "$root/usr/local/bin/docker-entrypoint.sh"
    image=$REPO/mariadb:$version
    import_tree "$root" "$image" 3306 mariadbd "MARIADB_MAJOR=$version"
    rm -rf "$root"
    MARIADB_IMAGE=$image
}

write_mariadb_entrypoint() {
    cat >"$1" <<'EOF'
#!/bin/bash
# Initialises a data directory on first start and runs MariaDB in the
# foreground, as the official image does (same variables, same log lines).
set -euo pipefail
if [[ ${1:-} == -* ]]; then set -- mariadbd "$@"; fi
if [[ ${1:-} != mariadbd && ${1:-} != mysqld ]]; then exec "$@"; fi
shift

env_of() { local a="MARIADB_$1" b="MYSQL_$1"; echo "${!a:-${!b:-}}"; }
root_password=$(env_of ROOT_PASSWORD)
allow_empty=$(env_of ALLOW_EMPTY_ROOT_PASSWORD)
database=$(env_of DATABASE)
user=$(env_of USER)
password=$(env_of PASSWORD)
datadir=/var/lib/mysql
opts=(--no-defaults --user=mysql --datadir="$datadir" --socket=/run/mysqld/mysqld.sock
      --pid-file=/run/mysqld/mysqld.pid --skip-log-bin --skip-name-resolve
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci)
mkdir -p /run/mysqld "$datadir"
chown -R mysql:mysql /run/mysqld "$datadir"

if [[ ! -d $datadir/mysql ]]; then
    if [[ -z $root_password && -z $allow_empty ]]; then
        echo "error: database is uninitialized and password option is not specified" >&2
        echo "       set MARIADB_ROOT_PASSWORD or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" >&2
        exit 1
    fi
    echo "Initializing database files"
    mariadb-install-db --no-defaults --user=mysql --datadir="$datadir" \
        --auth-root-authentication-method=normal --skip-test-db >/dev/null
    echo "Database files initialized"
    # A temporary server without networking, for the accounts and init scripts.
    mariadbd "${opts[@]}" --skip-networking &
    pid=$!
    for _ in $(seq 1 300); do
        mariadb-admin --no-defaults --socket=/run/mysqld/mysqld.sock -uroot ping >/dev/null 2>&1 && break
        kill -0 "$pid" 2>/dev/null || { echo "error: temporary server died" >&2; exit 1; }
        sleep 0.1
    done
    sql() { mariadb --no-defaults --socket=/run/mysqld/mysqld.sock -uroot "$@"; }
    quote() { local s=${1//\\/\\\\}; echo "'${s//\'/\'\'}'"; }
    {
        echo "DROP USER IF EXISTS ''@'localhost', ''@'$(hostname)', 'root'@'127.0.0.1', 'root'@'::1', 'root'@'$(hostname)';"
        echo "CREATE USER 'root'@'%' IDENTIFIED BY $(quote "$root_password");"
        echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(quote "$root_password");"
        [[ -n $database ]] && echo "CREATE DATABASE IF NOT EXISTS \`$database\`;"
        if [[ -n $user ]]; then
            echo "CREATE USER $(quote "$user")@'%' IDENTIFIED BY $(quote "$password");"
            [[ -n $database ]] && echo "GRANT ALL ON \`$database\`.* TO $(quote "$user")@'%';"
        fi
        echo "FLUSH PRIVILEGES;"
    } | sql
    auth=(-uroot)
    [[ -n $root_password ]] && auth+=("-p$root_password")
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
            *.sh) echo "running $f"; . "$f" ;;
            *.sql) echo "running $f"; mariadb --no-defaults --socket=/run/mysqld/mysqld.sock "${auth[@]}" ${database:+"$database"} <"$f" ;;
            *) ;;
        esac
    done
    mariadb-admin --no-defaults --socket=/run/mysqld/mysqld.sock "${auth[@]}" shutdown
    wait "$pid" || true
    echo "MariaDB init process done. Ready for start up."
fi

# The log goes to stderr ("mariadbd: ready for connections.", "port: 3306").
exec mariadbd "${opts[@]}" --port=3306 --bind-address=0.0.0.0 "$@"
EOF
    chmod 755 "$1"
}

# --- main --------------------------------------------------------------------

pg_current=$(docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPO/postgres" | head -n 1)
my_current=$(docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPO/mariadb" | head -n 1)
if [[ -n $pg_current ]] && up_to_date "$pg_current"; then
    POSTGRES_IMAGE=$pg_current
    log "$POSTGRES_IMAGE is up to date"
else
    SECONDS=0; build_postgres; log "PostgreSQL image in ${SECONDS}s"
fi
if [[ -n $my_current ]] && up_to_date "$my_current"; then
    MARIADB_IMAGE=$my_current
    log "$MARIADB_IMAGE is up to date"
else
    SECONDS=0; build_mariadb; log "MariaDB image in ${SECONDS}s"
fi
echo "export TEST_POSTGRES_IMAGE=$POSTGRES_IMAGE"
echo "export TEST_MYSQL_IMAGE=$MARIADB_IMAGE"
