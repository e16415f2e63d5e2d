#!/bin/sh
# Hands the database password to libpq (psycopg2) as PGPASSWORD, read from the compose
# secret file, so that it appears neither in the server's command line (the backend-store
# URI carries no password) nor in `docker inspect` (no environment entry holds it).
set -eu
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
    export PGPASSWORD
fi
exec "$@"
