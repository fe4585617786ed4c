"""The Great Expectations Data Context: its results and Data Docs under the warehouse.

Configured by the committed expectations/great_expectations.yml, with its stores' roots
moved to the warehouse folder (REPORTPIPE_WAREHOUSE) at run time.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from reportpipe.settings import EXPECTATIONS_DIR


@functools.cache
def context(warehouse_dir: Path):
    """The GX context of the committed configuration, its results and Data Docs under the warehouse."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig

    import reportpipe.validation.engine  # noqa: F401  registers the reportpipe_duckdb datasource type

    warehouse_dir = Path(warehouse_dir).resolve()  # GX's stores refuse a relative root
    config = yaml.safe_load((EXPECTATIONS_DIR / "great_expectations.yml").read_text(encoding="utf-8"))
    for backend in [*(s["store_backend"] for s in config["stores"].values()),
                    *(s["store_backend"] for s in config["data_docs_sites"].values())]:
        if "base_directory" in backend:  # on disk: under the warehouse
            backend["root_directory"] = str(warehouse_dir)
    return gx.get_context(project_config=DataContextConfig(**config))
