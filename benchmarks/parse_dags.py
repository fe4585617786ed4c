"""How long each DAG file takes to parse, as the dag-processor does it (prints numbers; not a test).

For every file in dags/, a fresh interpreter imports Airflow (not counted), then
parses the file with DagBag `--runs` times; the first parse pays for the
reportpipe modules the file imports, later ones show the steady state.

    .venv/bin/python benchmarks/parse_dags.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

DAGS = Path(__file__).resolve().parents[1] / "dags"

PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
times = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1])
    times.append(time.perf_counter() - started)
    assert not bag.import_errors, bag.import_errors
heavy = sorted(m for m in ("pandas", "duckdb", "great_expectations", "pyarrow") if m in sys.modules)
print(json.dumps({"dags": len(bag.dag_ids), "times": times, "heavy": heavy}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'file':<16} {'DAGs':>4} {'first parse':>12} {'median of rest':>15}  heavy imports")
    for path in sorted(DAGS.glob("*.py")):
        env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        out = subprocess.run([sys.executable, "-c", PROBE, str(path), str(args.runs)], capture_output=True,
                             text=True, check=True, env=env).stdout
        result = json.loads(out.strip().splitlines()[-1])
        first, rest = result["times"][0], sorted(result["times"][1:])
        median = rest[len(rest) // 2] if rest else first
        print(f"{path.name:<16} {result['dags']:>4} {first:>11.3f}s {median:>14.3f}s  {', '.join(result['heavy']) or 'none'}")


if __name__ == "__main__":
    main()
