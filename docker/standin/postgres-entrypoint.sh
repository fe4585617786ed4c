#!/usr/bin/env bash
# Entrypoint of the stand-in PostgreSQL image, as the official image's for what docker-compose.yml
# uses: started as root it hands PGDATA to postgres and runs again as postgres; on an empty PGDATA
# it creates the cluster (superuser POSTGRES_USER, password POSTGRES_PASSWORD, database
# POSTGRES_DB, password authentication over TCP, listening on every address); then runs the command.
set -euo pipefail

if [[ "$1" == postgres && "$(id -u)" == 0 ]]; then
    install -d -o postgres -g postgres -m 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [[ "$1" == postgres && ! -s "$PGDATA/PG_VERSION" ]]; then
    initdb --username="${POSTGRES_USER:-postgres}" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}") \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 -D "$PGDATA"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    if [[ "${POSTGRES_DB:-postgres}" != postgres ]]; then
        psql -v ON_ERROR_STOP=1 --username="${POSTGRES_USER:-postgres}" --dbname=postgres \
            -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    pg_ctl -D "$PGDATA" -m fast -w stop
fi

exec "$@"
