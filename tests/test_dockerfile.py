"""docker/Dockerfile installs every package the deployment imports, at the lock's versions.

The modules: every import under src/ and dags/, and every Python path docker-compose.yml hands
Airflow (the auth manager, the Celery config). Each maps to the distribution that holds it here
(the venv is requirements.lock), which the Dockerfile's `pip install` lines must install: a
missing one would only show when a task imports it in the deployment, month after month.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shlex
import sys
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
PROJECT_PACKAGE = "reportpipe"
DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def source_imports() -> set[str]:
    """Every absolute import under src/ and dags/; for `from a import b`, both a.b and a."""
    modules = set()
    for path in [*(ROOT / "src").rglob("*.py"), *(ROOT / "dags").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def compose_imports() -> set[str]:
    """The Python paths docker-compose.yml's environment gives Airflow (classes, config dicts)."""
    config = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    env = config["x-airflow-common"]["environment"]
    return {value for value in env.values() if isinstance(value, str) and DOTTED_PATH.fullmatch(value)}


@cache
def module_owners() -> dict[str, str]:
    """Module name -> the installed distribution whose files hold it."""
    owners = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            stem = parts[-1].split(".")[0]  # module.py, module.cpython-311-x86_64-linux-gnu.so
            if parts[-1].endswith((".py", ".so", ".pyd")):
                module = parts[:-1] if stem == "__init__" else (*parts[:-1], stem)
                owners.setdefault(".".join(module), name)
    return owners


def owner(module: str) -> str | None:
    """The distribution of the longest importable prefix of a dotted name (`a.b.Class` -> a.b's)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if found := module_owners().get(".".join(parts[:end])):
            return found
    return None


def needed_distributions() -> dict[str, str]:
    """Distribution -> one module that needs it, for every third-party module the deployment imports."""
    needed = {}
    for module in sorted(source_imports() | compose_imports()):
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top == PROJECT_PACKAGE:
            continue
        dist = owner(module)
        assert dist, f"{module} is imported by the deployment but no installed distribution holds it"
        needed.setdefault(canonical(dist), module)
    return needed


def dockerfile_installs(dockerfile: Path = DOCKERFILE) -> tuple[set[str], list[list[str]]]:
    """The distributions a Dockerfile's `pip install` commands name, directly or in a requirements file
    (built from the project root), and each of those commands' options."""
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    copies, runs = [], []
    for line in text.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "COPY":
            *sources, target = [t for t in shlex.split(rest) if not t.startswith("--")]
            copies += [(source, target) for source in sources]
        elif instruction.upper() == "RUN":
            runs += re.split(r"&&|;|\|\|", rest)

    def project_file(path: str) -> Path:
        for source, target in copies:
            if path == target:
                return ROOT / source
            if path.startswith(target.rstrip("/") + "/") and (ROOT / source).is_dir():
                return ROOT / source / path.removeprefix(target.rstrip("/") + "/")
        raise AssertionError(f"{dockerfile} installs from {path}, which no COPY puts there")

    names, options = set(), []
    for command in runs:
        tokens = shlex.split(command)
        if "pip" not in tokens or "install" not in tokens:
            continue
        args = tokens[tokens.index("install") + 1:]
        options.append([a for a in args if a.startswith("-")])
        for flag, value in zip(args, args[1:] + [""]):
            if flag in ("-r", "--requirement"):
                lock = project_file(value).read_text(encoding="utf-8")
                names |= {canonical(n) for n in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock, re.MULTILINE)}
        names |= {canonical(m.group(1)) for a in args if (m := re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==", a))}
    return names, options


def test_the_dockerfile_installs_every_distribution_the_deployment_imports():
    installed, _ = dockerfile_installs()
    missing = {dist: module for dist, module in needed_distributions().items() if dist not in installed}
    assert not missing, f"docker/Dockerfile does not install (distribution: a module that needs it): {missing}"


def test_the_dockerfile_installs_the_lock_with_its_hashes():
    """Every package at the lock's version: pip checks each against the lock's hashes."""
    _, options = dockerfile_installs()
    assert any("--require-hashes" in opts and "-r" in opts for opts in options), options


def test_a_hand_kept_package_list_misses_what_the_reports_import(tmp_path):
    """The Dockerfile issue 12 found: six packages picked by hand, none of those write_reports imports."""
    old = tmp_path / "Dockerfile"
    old.write_text("FROM apache/airflow:3.3.2-python3.11\n"
                   'RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \\\n'
                   "    duckdb==2.0.1 great-expectations==1.24.1 pandas==3.1.1 pyarrow==26.0.1 \\\n"
                   "    python-calamine==0.9.1 openpyxl==3.1.5\n", encoding="utf-8")
    installed, _ = dockerfile_installs(old)
    missing = set(needed_distributions()) - installed
    assert {"matplotlib", "python-docx", "pylopdf-fonts-zh-cn"} <= missing, missing
