# Stand-in for redis:7.2.11-bookworm on a machine that cannot reach an image registry
# (tests/deployment/test_compose_up.py builds it under that tag): Debian bookworm's Redis, which
# is 7.0, run as the official image runs it: `redis-server` as user redis in /data, redis-cli beside it.
FROM reportpipe-standin/debian:bookworm

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o redis -g redis /data

WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
