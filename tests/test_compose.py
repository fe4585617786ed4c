"""docker-compose.yml, checked statically with Debian's docker-compose (v1) `config`.

No Docker engine is needed: `config` validates the file against the Compose schema,
interpolates .env.example and prints the resolved file, which is checked here.
Without the docker-compose binary these tests fail on CI (CI=true) and skip elsewhere.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "docker" / "Dockerfile"

AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
}
SERVICES = AIRFLOW_SERVICES | {"postgres", "redis"}
# Every secret must come from .env, guarded by ${VAR:?message}.
SECRETS = (
    "POSTGRES_PASSWORD",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "REPORTPIPE_PII_KEY",
    "_AIRFLOW_WWW_USER_USERNAME",
    "_AIRFLOW_WWW_USER_PASSWORD",
)
INBOX = "/opt/reportpipe/inbox"
SECRET_LOOKING_KEY = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$|JWT|SQL_ALCHEMY_CONN|RESULT_BACKEND")
# ${NAME...} that compose interpolates: not $${escaped}, not in comments (see compose_variables).
VARIABLE = re.compile(r"(?<!\$)\$\{(\w+)([^}]*)\}")


@pytest.fixture(scope="module")
def docker_compose() -> str:
    binary = shutil.which("docker-compose")
    if binary is None:
        reason = (
            "docker-compose not found: install Debian's docker-compose "
            "(apt-get install -y docker-compose) to validate docker-compose.yml"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return binary


def compose(binary: str, env_file: Path, *args: str) -> subprocess.CompletedProcess:
    """`docker-compose --env-file ENV -f docker-compose.yml ARGS`, blind to the caller's environment.

    Variables in the environment override the env file, so only PATH and HOME are passed on
    (the test session itself sets REPORTPIPE_PII_KEY).
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def compose_variables() -> list[tuple[str, str]]:
    """(name, modifier) of every ${name<modifier>} docker-compose.yml interpolates."""
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    return VARIABLE.findall("\n".join(line for line in lines if not line.lstrip().startswith("#")))


def write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def config(docker_compose) -> dict:
    """The resolved compose file, as `docker-compose config` prints it with .env.example."""
    result = compose(docker_compose, ENV_EXAMPLE, "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def mounts(service: dict) -> dict[str, dict]:
    """Container path -> {source, read_only}, from v1's short or v2's long volume syntax."""
    found = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            found[target] = {"source": source, "read_only": "ro" in (mode[0].split(",") if mode else [])}
        else:
            found[volume["target"]] = {"source": volume.get("source"), "read_only": bool(volume.get("read_only"))}
    return found


def test_config_is_valid(docker_compose):
    result = compose(docker_compose, ENV_EXAMPLE, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_every_service_exists(config):
    assert SERVICES <= set(config["services"]), SERVICES - set(config["services"])


def test_every_image_is_pinned(config):
    images = {name: service.get("image", "") for name, service in config["services"].items()}
    froms = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert froms, "docker/Dockerfile has no FROM"
    images.update({f"Dockerfile FROM {i}": image for i, image in enumerate(froms)})
    for name, image in images.items():
        repository, _, tag = image.rpartition(":")
        pinned = "@sha256:" in image or (repository and "/" not in tag and tag not in ("", "latest"))
        assert pinned, f"{name}: image {image!r} is not pinned to a version tag"


def test_airflow_image_matches_the_lock():
    """The image runs the Airflow version the test suite ran with."""
    locked = re.search(r"^apache-airflow==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE)
    assert re.search(rf"^FROM apache/airflow:{re.escape(locked.group(1))}-python3\.11\s*$",
                     DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE)


def test_executor_is_celery_with_redis_and_postgres(config):
    for name in AIRFLOW_SERVICES:
        env = config["services"][name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/", name
    assert "celery worker" in str(config["services"]["airflow-worker"]["command"])


def test_the_state_is_on_the_warehouse_volume_and_the_inbox_is_read_only(config):
    assert "warehouse" in config["volumes"]
    for name in AIRFLOW_SERVICES:
        service = config["services"][name]
        found = mounts(service)
        state = service["environment"]["REPORTPIPE_WAREHOUSE"]
        assert found.get(state, {}).get("source") == "warehouse", f"{name}: {state} is not the warehouse volume"
        assert not found[state]["read_only"], f"{name}: the warehouse must be writable"
        assert INBOX in found and found[INBOX]["read_only"], f"{name} does not mount the inbox read-only"
        assert service["environment"]["REPORTPIPE_INBOX"] == INBOX, name
        # The code, DAGs, contracts and suites come from the image: a mount of the source tree
        # would run other code than the image's reportpipe.
        tree = [target for target, m in found.items()
                if target != INBOX and m["source"] and Path(m["source"]).is_relative_to(ROOT)]
        assert not tree, f"{name} mounts the source tree at {tree}"


def test_the_worker_serves_the_warehouse_queue_and_init_makes_its_pool(config):
    """Tasks that write the warehouse take the pool reportpipe_warehouse (1 slot) and the queue warehouse."""
    worker = config["services"]["airflow-worker"]["command"]
    queues = re.search(r"--queues[ =](\S+)", worker if isinstance(worker, str) else " ".join(worker))
    assert queues and set(queues.group(1).split(",")) == {"default", "warehouse"}, worker
    # airflow-init runs the module that holds the pool's name and size (the DAGs' tasks name the same).
    assert config["services"]["airflow-init"]["command"] == ["python", "-m", "reportpipe.orchestration.pool"]


def test_the_worker_gets_the_pii_key(config):
    assert config["services"]["airflow-worker"]["environment"]["REPORTPIPE_PII_KEY"] == env_example()["REPORTPIPE_PII_KEY"]


def test_no_secret_is_written_in_the_compose_file():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = {}
    for name, modifier in compose_variables():
        used.setdefault(name, set()).add(modifier)
    for name in SECRETS:
        assert name in used, f"docker-compose.yml never reads ${{{name}}}"
        assert all(m.startswith(":?") for m in used[name]), (
            f"${{{name}}} must be ${{{name}:?message}}: no default, fail when unset"
        )
    # Secret-looking settings are always variables, never literals.
    raw = yaml.safe_load(text)
    for name, service in raw["services"].items():
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        for key, value in env.items():
            if SECRET_LOOKING_KEY.search(key):
                assert "${" in str(value), f"{name}: {key} is written in docker-compose.yml"
    # And none of the example's placeholder values was pasted in.
    for key, value in env_example().items():
        if key in SECRETS and len(value) >= 8:
            assert value not in text, f"the value of {key} appears in docker-compose.yml"


def test_secrets_reach_the_services_from_the_env_file(docker_compose, tmp_path):
    values = {**env_example(), **{name: f"{name.lower()}-{secrets.token_hex(8)}" for name in SECRETS}}
    result = compose(docker_compose, write_env(tmp_path / "random.env", values), "config")
    assert result.returncode == 0, result.stderr
    for name in SECRETS:
        assert values[name] in result.stdout, f"{name} from the env file is used nowhere"


def test_env_example_names_every_variable():
    example = env_example()
    for name, _ in compose_variables():
        assert name in example, f"${{{name}}} is used by docker-compose.yml but missing from .env.example"
    assert set(SECRETS) <= set(example)


@pytest.mark.parametrize("missing", SECRETS)
def test_a_missing_secret_stops_compose_and_is_named(docker_compose, tmp_path, missing):
    values = {k: v for k, v in env_example().items() if k != missing}
    result = compose(docker_compose, write_env(tmp_path / "partial.env", values), "config", "-q")
    assert result.returncode != 0, f"config accepted an env file without {missing}"
    assert missing in result.stdout + result.stderr
