# Stand-in for postgres:16.11-bookworm on a machine that cannot reach an image registry
# (tests/deployment/test_compose_up.py builds it under that tag): Debian bookworm's PostgreSQL,
# which is 15, with the official image's interface that docker-compose.yml uses: POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB on first start, PGDATA, pg_isready, `postgres` as the command.
FROM reportpipe-standin/debian:bookworm

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && pg_dropcluster --stop 15 main \
    && install -d -o postgres -g postgres -m 2775 /var/run/postgresql \
    && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data

ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8

COPY docker/standin/postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
