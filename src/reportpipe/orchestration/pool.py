"""The Airflow pool of the tasks that write an office's warehouse: its name, its size, and the command that makes it.

A slot per office: each office's folder has a writer lock of its own, so offices load side by side
while one office's tasks meet its lock (they wait for it; the CLI does too). A district of 17
offices loads 17 at a time; one office, one at a time, as before.

    python -m reportpipe.orchestration.pool     # `make` and docker-compose's airflow-init run it
"""

from __future__ import annotations

WAREHOUSE_POOL = "reportpipe_warehouse"


def pool_slots() -> int:
    from reportpipe.offices import deployment

    return len(deployment().offices)


def ensure_pool() -> int:
    """Create the pool, or set its size back to a slot per office; its size."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(WAREHOUSE_POOL, slots=pool_slots(),
                               description="tasks that write a reportpipe office's warehouse", include_deferred=False)
    return pool_slots()


if __name__ == "__main__":
    slots = ensure_pool()
    print(f"pool {WAREHOUSE_POOL}: {slots} slot{'s' if slots > 1 else ''}")
