#!/usr/bin/env bash
# /entrypoint of the stand-in Airflow image: what docker-compose.yml uses of the official image's
# entrypoint (https://airflow.apache.org/docs/docker-stack/entrypoint.html): wait for the metadata
# database, migrate it if _AIRFLOW_DB_MIGRATE is set, create the admin if _AIRFLOW_WWW_USER_CREATE
# is set, then run `airflow <args>` (a leading `airflow` is optional; `bash` and `python` run as such).
set -euo pipefail
umask 0002

if [[ "${1:-}" == airflow ]]; then
    shift
fi

tries="${CONNECTION_CHECK_MAX_COUNT:-20}"
until airflow db check > /dev/null 2>&1; do
    tries=$((tries - 1))
    if (( tries <= 0 )); then
        airflow db check
        exit 1
    fi
    sleep "${CONNECTION_CHECK_SLEEP_TIME:-3}"
done

if [[ -n "${_AIRFLOW_DB_MIGRATE:-}" ]]; then
    airflow db migrate
fi
if [[ -n "${_AIRFLOW_WWW_USER_CREATE:-}" ]]; then
    # An existing user is not an error: airflow-init runs again on every `up`.
    airflow users create --username "${_AIRFLOW_WWW_USER_USERNAME:-admin}" \
        --password "${_AIRFLOW_WWW_USER_PASSWORD:?_AIRFLOW_WWW_USER_PASSWORD is not set}" \
        --firstname Airflow --lastname Admin --email airflowadmin@example.com --role Admin || true
fi

case "${1:-}" in
    bash | python) exec "$@" ;;
    *) exec airflow "$@" ;;
esac
