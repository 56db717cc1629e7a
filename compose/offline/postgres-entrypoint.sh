#!/bin/sh
# The part of the official postgres image's entrypoint that Thoughts relies on:
# on first start, initdb in $PGDATA with the superuser password from
# POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, password logins from any
# address, then the *.sql and *.sh files of /docker-entrypoint-initdb.d run once
# against a server that listens on the socket only. Then the server, on every
# address. Runs as the image's user (999), as Kubernetes runs it.
set -eu

if [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        POSTGRES_PASSWORD=$(cat -- "$POSTGRES_PASSWORD_FILE")
    fi
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "postgres: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE (the superuser's password)" >&2
        exit 1
    fi
    mkdir -p -- "$PGDATA"
    chmod 0700 -- "$PGDATA"
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --username=postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA"
    rm -f -- "$pwfile"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    for script in /docker-entrypoint-initdb.d/*; do
        case $script in
            *.sql) echo "postgres: running $script"; psql -v ON_ERROR_STOP=1 --username=postgres --no-password -f "$script" ;;
            *.sh) echo "postgres: running $script"; . "$script" ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo "postgres: initialised $PGDATA"
fi

exec "$@"
