"""A temporary copy of the project's declarations, and the `reportpipe` command run against it.

Settings (REPORTPIPE_PROJECT_DIR) are read when reportpipe is imported, so a test that changes
the contracts runs the command in a subprocess pointed at its copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import TEST_PII_KEY

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_FIGURES = ROOT / "reference" / "figures_2023.csv"  # the 2023 report's figures
REPORTPIPE = Path(sys.executable).with_name("reportpipe")


def copy_project(target: Path) -> Path:
    """transforms/, the GX context and suites, the warehouse schema and dictionary, the DAGs, the reference figures."""
    shutil.copytree(ROOT / "transforms", target / "transforms")
    (target / "expectations").mkdir(parents=True)
    shutil.copy(ROOT / "expectations" / "great_expectations.yml", target / "expectations")
    shutil.copytree(ROOT / "expectations" / "suites", target / "expectations" / "suites")
    (target / "warehouse").mkdir()
    for name in ("schema.sql", "dictionary.yaml"):
        shutil.copy(ROOT / "warehouse" / name, target / "warehouse")
    shutil.copytree(ROOT / "dags", target / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "reference", target / "reference")
    return target


def environment(project: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "REPORTPIPE_PROJECT_DIR": str(project), "REPORTPIPE_PII_KEY": TEST_PII_KEY, **extra}


def reportpipe(project: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """`reportpipe ARGS` with the project's declarations, run from the project (so no developer's .env is read)."""
    return subprocess.run([str(REPORTPIPE), *args], cwd=project, env=environment(project, **extra),
                          capture_output=True, text=True, timeout=600)
