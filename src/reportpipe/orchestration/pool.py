"""The Airflow pool of the tasks that write the warehouse: its name, its size, and the command that makes it.

One slot: one task at a time writes work.duckdb (the CLI meets the warehouse's lock instead).

    python -m reportpipe.orchestration.pool     # `make` and docker-compose's airflow-init run it
"""

from __future__ import annotations

WAREHOUSE_POOL = "reportpipe_warehouse"
WAREHOUSE_POOL_SLOTS = 1


def ensure_pool() -> None:
    """Create the pool, or set its size back to WAREHOUSE_POOL_SLOTS."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(WAREHOUSE_POOL, slots=WAREHOUSE_POOL_SLOTS,
                               description="tasks that write the reportpipe warehouse", include_deferred=False)


if __name__ == "__main__":
    ensure_pool()
    print(f"pool {WAREHOUSE_POOL}: {WAREHOUSE_POOL_SLOTS} slot")
