"""Celery settings of reportpipe's workers: Airflow's own, plus the modules every task needs.

Celery imports `imports` once in the worker's main process, before it forks its
pool, so a task starts with Great Expectations already imported instead of
paying its 8-13 s import again. Select it with
AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=reportpipe.orchestration.celery_config.CELERY_CONFIG.
"""

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

CELERY_CONFIG = {
    **DEFAULT_CELERY_CONFIG,
    "imports": ("great_expectations", "reportpipe.validation.engine", "reportpipe.validation.expectations", "reportpipe.pipeline"),
}
