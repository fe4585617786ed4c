# Stand-in for apache/airflow:3.3.2-python3.11 on a machine that cannot reach an image registry
# (tests/deployment/test_compose_up.py builds it under that tag). It has what docker-compose.yml
# and docker/Dockerfile rely on in the official image: user airflow (uid 50000, gid 0),
# AIRFLOW_HOME=/opt/airflow, AIRFLOW_VERSION, Airflow with the providers celery, postgres, fab,
# redis and smtp in ~/.local (pip works for the airflow user), curl, and /entrypoint.
# Debian's Python 3.11 instead of python.org's; versions from requirements.lock instead of
# Airflow's constraints file (not reachable here).
FROM reportpipe-standin/debian:bookworm

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
         python3 python3-venv curl dumb-init tzdata \
    && rm -rf /var/lib/apt/lists/*

ENV AIRFLOW_VERSION=3.3.2 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW_USER_HOME_DIR=/home/airflow \
    PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1

RUN useradd --uid 50000 --gid 0 --home-dir /home/airflow --create-home airflow \
    && install -d -o airflow -g 0 -m 775 /opt/airflow /opt/airflow/dags /opt/airflow/logs /opt/airflow/plugins

USER airflow
# uv resolves and installs Airflow in seconds where pip takes minutes; the lock's pins as constraints.
COPY requirements.lock /tmp/requirements.lock
RUN python3 -m venv /home/airflow/.local \
    && grep -oE '^[A-Za-z0-9._-]+==[^ ;\\]+' /tmp/requirements.lock > /tmp/constraints.txt \
    && pip install --no-cache-dir --quiet --constraint /tmp/constraints.txt uv \
    && UV_NATIVE_TLS=1 uv pip install --no-cache --quiet --constraint /tmp/constraints.txt \
         "apache-airflow==${AIRFLOW_VERSION}" \
         apache-airflow-providers-celery apache-airflow-providers-postgres apache-airflow-providers-fab \
         apache-airflow-providers-redis apache-airflow-providers-smtp \
    && pip uninstall --yes --quiet uv \
    && airflow version

COPY docker/standin/airflow-entrypoint.sh /entrypoint
WORKDIR /opt/airflow
EXPOSE 8080
ENTRYPOINT ["/usr/bin/dumb-init", "--", "/entrypoint"]
CMD []
