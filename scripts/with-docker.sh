#!/usr/bin/env bash
# Run a command with a Docker engine and the local test images, so that the
# tests take the testcontainers path:
#
#   scripts/with-docker.sh cargo nextest run -p tests
#
# - Uses the engine DOCKER_HOST (or the default socket) points at when one
#   answers; otherwise installs Debian's docker.io if missing (root only),
#   starts dockerd on a private socket and stops it again on exit.
# - Builds the images with scripts/docker-images.sh (cached) and exports
#   TEST_POSTGRES_IMAGE / TEST_MYSQL_IMAGE, TEST_DATABASE_SOURCE=container
#   (no silent fallback), and unsets TEST_POSTGRES_URL / TEST_MYSQL_URL.
# - Removes the test containers (persistence-test-db-*) on exit.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "with-docker.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

run_dir=""
dockerd_pid=""

cleanup() {
    local rc=$?
    set +e
    local ids
    ids=$(docker ps -aq --filter name=persistence-test-db- 2>/dev/null)
    [[ -n $ids ]] && docker rm -f $ids >/dev/null 2>&1
    if [[ -n $dockerd_pid ]]; then
        kill -TERM "$dockerd_pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$dockerd_pid" 2>/dev/null && { log "dockerd did not stop; killing it"; kill -KILL "$dockerd_pid"; }
        log "stopped dockerd"
    fi
    [[ -n $run_dir ]] && rm -rf "$run_dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if docker info >/dev/null 2>&1; then
    log "using the running Docker engine${DOCKER_HOST:+ at $DOCKER_HOST}"
else
    [[ $(id -u) -eq 0 ]] || die "no Docker engine answers, and starting one needs root"
    if ! command -v dockerd >/dev/null 2>&1; then
        log "installing docker.io"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    fi
    run_dir=$(mktemp -d /run/persistence-docker.XXXXXX)
    export DOCKER_HOST=unix://$run_dir/docker.sock
    # Published ports on loopback only.
    dockerd --host "$DOCKER_HOST" --exec-root "$run_dir/exec" --pidfile "$run_dir/docker.pid" \
        --ip 127.0.0.1 >"$run_dir/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 1 150); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || { tail -n 20 "$run_dir/dockerd.log" >&2; die "dockerd exited"; }
        sleep 0.2
    done
    docker info >/dev/null 2>&1 || { tail -n 20 "$run_dir/dockerd.log" >&2; die "dockerd did not answer"; }
    log "started dockerd (pid $dockerd_pid) at $DOCKER_HOST"
fi

exports=$("$repo_root/scripts/docker-images.sh")
eval "$exports"
export TEST_POSTGRES_IMAGE TEST_MYSQL_IMAGE
export TEST_DATABASE_SOURCE=container
unset TEST_POSTGRES_URL TEST_MYSQL_URL
log "images: $TEST_POSTGRES_IMAGE, $TEST_MYSQL_IMAGE"

status=0
"$@" || status=$?
log "containers used:"
docker ps -a --filter name=persistence-test-db- --format '  {{.Names}}  {{.Image}}  {{.Status}}' >&2
exit "$status"
