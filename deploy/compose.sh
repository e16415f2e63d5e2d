#!/usr/bin/env bash
# Operations on the compose stack that `docker compose` alone does not do, or does not do
# the same way under Docker and podman-compose. deploy/docker.mk calls it with COMPOSE set
# to the full compose command (files included); see docs/deployment.md.
#
#   deploy/compose.sh secrets          # create deploy/secrets/* (random) when missing
#   deploy/compose.sh up [REPLICAS]    # build, start, wait until every replica is ready
#   deploy/compose.sh roll             # replace the api replicas one at a time, no failed request
#   deploy/compose.sh down             # stop and remove containers and networks, keep volumes
#   deploy/compose.sh clean            # down, then delete the volumes
#   deploy/compose.sh backup DIR       # pg_dump of the registry + tar of the artifact volume
#   deploy/compose.sh restore DIR      # into empty volumes, then up
set -euo pipefail

cd "$(dirname "$0")/.."
DOCKER=${DOCKER:-docker}
COMPOSE=${COMPOSE:-$DOCKER compose}
PROJECT=${COMPOSE_PROJECT_NAME:-recurrent-forecast}
SECRETS=deploy/secrets
API_PORT=${API_PORT:-8000}
# first start from empty volumes trains every model (minutes); later starts take seconds
UP_TIMEOUT=${COMPOSE_UP_TIMEOUT:-1800}
# a container's stop: the api's drain plus requests in flight (compose's stop_grace_period)
STOP_SECONDS=30

say() { printf 'compose.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# containers of one service of this project (Docker compose and podman-compose both set
# these labels), running or not
service_containers() {
    $DOCKER ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=$1"
}

health() { $DOCKER inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null; }

wait_healthy() {  # container, timeout in seconds
    local deadline=$((SECONDS + $2))
    until [ "$(health "$1")" = healthy ]; do
        [ $SECONDS -lt "$deadline" ] || die "container $1 not healthy after $2 s (docker logs $1)"
        sleep 2
    done
}

wait_service_healthy() {  # service, timeout
    local id
    id=$(service_containers "$1" | head -n 1)
    [ -n "$id" ] || die "no $1 container"
    wait_healthy "$id" "$2"
}

cmd_secrets() {
    mkdir -p "$SECRETS"
    # only the owner of the checkout can list or open the directory; the files themselves
    # must be readable by the containers' own users (postgres, mlflow, app) through the
    # bind mount, which does not see the directory's mode
    chmod 700 "$SECRETS"
    local name
    for name in postgres_password api_key; do
        if [ ! -s "$SECRETS/$name" ]; then
            # 32 random bytes, hex: no character needs quoting in a URI, header or shell
            od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$SECRETS/$name"
            chmod 644 "$SECRETS/$name"
            say "created $SECRETS/$name"
        fi
    done
}

cmd_up() {
    local replicas=${1:-2}
    cmd_secrets
    # build first, then `up` without --build: podman-compose builds once per container,
    # i.e. the app image once per replica, side by side
    $COMPOSE build
    $COMPOSE up -d --scale "api=$replicas"
    say "waiting for $replicas api replica(s) to be ready (a start from empty volumes trains the models first)"
    local deadline=$((SECONDS + UP_TIMEOUT)) id healthy
    while :; do
        healthy=0
        for id in $(service_containers api); do
            [ "$(health "$id")" = healthy ] && healthy=$((healthy + 1))
        done
        [ "$healthy" -ge "$replicas" ] && break
        [ $SECONDS -lt "$deadline" ] || die "$healthy of $replicas api replicas ready after $UP_TIMEOUT s"
        sleep 3
    done
    # the load balancer checks every second; wait until it routes
    until python3 -c "import sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:$API_PORT/ready', timeout=2)" 2>/dev/null; do
        [ $SECONDS -lt "$deadline" ] || die "load balancer on :$API_PORT does not answer /ready"
        sleep 1
    done
    $COMPOSE ps
    say "ready: http://127.0.0.1:$API_PORT (X-API-Key: the content of $SECRETS/api_key)"
}

# Surge roll: for each replica, first start one more (same compose config: picks up a new
# image or settings), wait until it is ready, then stop the old one (SIGTERM: /ready drops,
# the load balancer takes it out, in-flight requests finish) and remove it. Capacity never
# drops below the replica count. `up --force-recreate api` would replace them all at once
# (and under podman-compose also restarts mlflow and postgres).
cmd_roll() {
    local old count id new before
    old=$($DOCKER ps -q --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=api")
    count=$(echo "$old" | grep -c . || true)
    [ "$count" -gt 0 ] || die "no running api replica to roll"
    for id in $old; do
        before=$(service_containers api)
        $COMPOSE up -d --no-deps --no-recreate --scale "api=$((count + 1))" api
        new=$(service_containers api | grep -vxF "$before" || true)
        [ "$(echo "$new" | grep -c .)" -eq 1 ] || die "expected one new api container, got: ${new:-none}"
        wait_healthy "$new" 300
        say "replica $new ready; stopping $id"
        $DOCKER stop -t "$STOP_SECONDS" "$id" >/dev/null
        $DOCKER rm "$id" >/dev/null
    done
    say "rolled $count replica(s)"
}

leftovers() {
    $DOCKER ps -aq --filter "label=com.docker.compose.project=$PROJECT"
    $DOCKER network ls -q --filter "label=com.docker.compose.project=$PROJECT"
}

# podman-compose's `down` only knows the containers the compose file names (api-1): the
# replicas from --scale keep mlflow (which they require) from being removed, and with it
# the network. So the replicas go first (each drains on SIGTERM), then `down`.
cmd_down() {
    local replicas
    replicas=$(service_containers api)
    if [ -n "$replicas" ]; then
        # shellcheck disable=SC2086  # one id per word
        $DOCKER stop -t "$STOP_SECONDS" $replicas >/dev/null
        # shellcheck disable=SC2086
        $DOCKER rm $replicas >/dev/null
    fi
    $COMPOSE down --remove-orphans "$@"
    local left
    left=$(leftovers)
    [ -z "$left" ] || die "left behind after down: $left"
}

cmd_clean() {
    cmd_down -v
    local left
    left=$($DOCKER volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
    [ -z "$left" ] || die "volumes left behind: $left"
}

# Registry database first, artifacts second: artifacts are only ever added, and every
# artifact a registered version points to was written before it was registered, so the
# artifact copy holds everything the dump refers to.
cmd_backup() {
    local dir=${1:?usage: compose.sh backup DIR}
    mkdir -p "$dir"
    $COMPOSE exec -T postgres pg_dump -U mlflow -d mlflow --format=custom >"$dir/mlflow.pgdump"
    $COMPOSE exec -T mlflow tar -C /mlartifacts -czf - . >"$dir/mlartifacts.tar.gz"
    [ -s "$dir/mlflow.pgdump" ] && [ -s "$dir/mlartifacts.tar.gz" ] || die "empty backup in $dir"
    (cd "$dir" && sha256sum mlflow.pgdump mlartifacts.tar.gz >SHA256SUMS)
    say "backup in $dir: $(du -sh "$dir" | cut -f1)"
}

cmd_restore() {
    local dir=${1:?usage: compose.sh restore DIR} replicas=${2:-2}
    (cd "$dir" && sha256sum --quiet -c SHA256SUMS) || die "$dir: checksums do not match"
    [ -z "$($DOCKER volume ls -q --filter "label=com.docker.compose.project=$PROJECT")" ] \
        || die "restore needs empty volumes: make compose-clean first (it deletes the current data)"
    cmd_secrets
    $COMPOSE up -d postgres
    wait_service_healthy postgres 120
    $COMPOSE exec -T postgres pg_restore -U mlflow -d mlflow --no-owner --exit-on-error <"$dir/mlflow.pgdump"
    $COMPOSE up -d mlflow
    wait_service_healthy mlflow 300
    $COMPOSE exec -T mlflow tar -C /mlartifacts -xzf - <"$dir/mlartifacts.tar.gz"
    say "restored $dir; starting the rest (the trainer finds the champions and trains nothing)"
    cmd_up "$replicas"
}

command=${1:-}
shift || true
case "$command" in
    secrets | up | roll | down | clean | backup | restore) "cmd_$command" "$@" ;;
    *) die "usage: compose.sh secrets|up [REPLICAS]|roll|down|clean|backup DIR|restore DIR [REPLICAS]" ;;
esac
