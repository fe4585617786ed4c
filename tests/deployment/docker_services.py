"""Docker on this machine for tests/deployment/test_compose_up.py: the daemon, the stand-in images, compose.

No image registry is reachable here, so the images docker-compose.yml names (and docker/Dockerfile
starts FROM) are built locally from one Debian root file system (debootstrap) and the definitions
in docker/standin/, and kept under those tags for the next run. Everything talks over 127.0.0.1:
the daemon started here makes no bridge and no iptables rules, builds use the host's network, and
compose.test.yml puts every container on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
TEST_OVERRIDE = Path(__file__).with_name("compose.test.yml")
STANDIN = ROOT / "docker" / "standin"
DEBIAN_IMAGE = "reportpipe-standin/debian:bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Which stand-in definition builds the image under each tag the deployment uses.
STANDIN_LABEL = "reportpipe.standin"
# No docker0 bridge, no iptables rules, ip_forward untouched: containers use the host's network.
DOCKERD_FLAGS = ["--bridge=none", "--iptables=false", "--ip-forward=false"]
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
TOOLS = ("dockerd", "docker", "docker-compose", "debootstrap")


def require_docker_machine() -> None:
    """Skip unless this run asked for the deployment test; then skip, or with CI=true fail, without its tools."""
    import pytest

    ci = os.environ.get("CI") == "true"
    if not ci and os.environ.get("REPORTPIPE_TEST_DEPLOY") != "1":
        pytest.skip("the Docker deployment takes minutes: run it with `make test-deploy` (CI runs it)")
    problems = [f"{tool} is missing (apt-get install docker.io docker-compose debootstrap)"
                for tool in TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0:
        problems.append("it needs root (dockerd, debootstrap)")
    if problems:
        message = f"the Docker deployment test cannot run: {'; '.join(problems)}"
        if ci:
            pytest.fail(f"{message}; with CI=true it must run")
        pytest.skip(message)


def run(*args, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{shlex.join(str(a) for a in args)} exited with {done.returncode}:\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def docker_up() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode == 0


@contextlib.contextmanager
def docker_daemon(log: Path):
    """The running Docker daemon, or one started here and stopped again afterwards."""
    if docker_up():
        yield
        return
    host_network = _forward_policy(), IP_FORWARD.read_text()
    with log.open("w") as out:
        daemon = subprocess.Popen(["dockerd", *DOCKERD_FLAGS], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not docker_up():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        _remove_network_leftovers(*host_network)


def _forward_policy() -> str | None:
    if shutil.which("iptables") is None:
        return None
    return re.search(r"^-P FORWARD (\w+)", run("iptables", "-S", "FORWARD").stdout, re.MULTILINE).group(1)


def _remove_network_leftovers(forward_policy: str | None, ip_forward: str) -> None:
    """What a daemon started without DOCKERD_FLAGS leaves: the docker0 bridge, its iptables rules
    and chains, the FORWARD policy DROP, IP forwarding on."""
    if Path("/sys/class/net/docker0").exists():
        run("ip", "link", "delete", "docker0")
    if IP_FORWARD.read_text() != ip_forward:
        IP_FORWARD.write_text(ip_forward)
    if forward_policy is None:
        return
    for table in ("filter", "nat"):
        rules = run("iptables", "-t", table, "-S").stdout.splitlines()
        for rule in rules:
            if rule.startswith("-A ") and "docker" in rule.lower():
                run("iptables", "-t", table, "-D", *shlex.split(rule)[1:])
        for chain in (rule.split()[1] for rule in rules if rule.startswith("-N DOCKER")):
            run("iptables", "-t", table, "-F", chain)
            run("iptables", "-t", table, "-X", chain)
    if _forward_policy() != forward_policy:
        run("iptables", "-P", "FORWARD", forward_policy)


def image_label(tag: str) -> str | None:
    """The stand-in label of a local image, "" for an image without it, None when there is none."""
    done = subprocess.run(["docker", "image", "inspect", "--format", f'{{{{ index .Config.Labels "{STANDIN_LABEL}" }}}}', tag],
                          capture_output=True, text=True, timeout=60)
    return done.stdout.strip().replace("<no value>", "") if done.returncode == 0 else None


def standin_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(STANDIN.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def deployment_images() -> dict[str, str]:
    """Tag -> stand-in kind, for every image the deployment starts from."""
    config = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    base = re.search(r"^FROM\s+(\S+)", (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE)
    return {base.group(1): "airflow", config["services"]["postgres"]["image"]: "postgres",
            config["services"]["redis"]["image"]: "redis"}


def build_standins(workdir: Path) -> None:
    """Build each stand-in that is missing or was built from other definitions."""
    digest = standin_digest()
    # An image without the label is the real one (pulled where a registry is reachable): use it.
    stale = {tag: kind for tag, kind in deployment_images().items() if image_label(tag) not in ("", digest)}
    if stale and image_label(DEBIAN_IMAGE) is None:
        debian_image(workdir / "rootfs")

    def build(tag: str, kind: str) -> None:
        run("docker", "build", "--network", "host", "--label", f"{STANDIN_LABEL}={digest}",
            "-f", STANDIN / f"{kind}.Dockerfile", "-t", tag, ROOT, timeout=1800)

    with ThreadPoolExecutor() as pool:
        list(pool.map(build, stale, stale.values()))


def debian_image(rootfs: Path) -> None:
    """A minimal Debian bookworm, as DEBIAN_IMAGE: the one root file system every stand-in starts from."""
    run("debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", rootfs, DEBIAN_MIRROR, timeout=900)
    try:
        # The machine's own certificate authorities (a TLS-inspecting proxy's, say): apt and pip in
        # the images trust what the host trusts.
        shutil.copytree("/usr/local/share/ca-certificates", rootfs / "usr/local/share/ca-certificates",
                        dirs_exist_ok=True)
        run("chroot", rootfs, "update-ca-certificates")
        (rootfs / "etc" / "pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
        (rootfs / "etc" / "apt" / "sources.list").write_text(
            f"deb {DEBIAN_MIRROR} bookworm main\ndeb {DEBIAN_MIRROR} bookworm-updates main\n"
            f"deb {DEBIAN_MIRROR}-security bookworm-security main\n")
        run("chroot", rootfs, "apt-get", "clean")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        run("docker", "import", "-", DEBIAN_IMAGE, stdin=tar.stdout, timeout=600)
        if tar.wait():
            raise RuntimeError(f"tar of {rootfs} failed")
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


class Compose:
    """docker-compose (v1) on docker-compose.yml plus compose.test.yml, as one project.

    Compose resolves the two files (`config`); the resolved file drops the published ports of
    host-networked services, which Docker refuses (host networking publishes nothing) and an
    override file cannot remove in Compose v1. Every later command runs on the resolved file.
    """

    def __init__(self, workdir: Path, env: dict[str, str]):
        self.project = f"reportpipe_test_{os.getpid()}_{os.urandom(3).hex()}"
        self.env_file = workdir / "compose.env"
        self.env_file.touch(mode=0o600)
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()), encoding="utf-8")
        resolved = yaml.safe_load(self._compose(["--env-file", self.env_file, "-f", COMPOSE_FILE,
                                                 "-f", TEST_OVERRIDE, "config"]).stdout)
        for service in resolved["services"].values():
            if service.get("network_mode") == "host":
                service.pop("ports", None)
        self.file = workdir / "compose.resolved.yml"
        self.file.touch(mode=0o600)
        self.file.write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")

    @staticmethod
    def _compose(args: list, timeout: float = 600) -> subprocess.CompletedProcess:
        # Only PATH and HOME: variables of the caller's environment would override the env file.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
        return run("docker-compose", *args, timeout=timeout, cwd=ROOT, env=env)

    def __call__(self, *args: str, timeout: float = 600) -> str:
        return self._compose(["-p", self.project, "-f", self.file, *args], timeout=timeout).stdout

    def exec(self, service: str, *command: str, timeout: float = 600) -> str:
        return self("exec", "-T", service, *command, timeout=timeout)

    def health(self) -> dict[str, str]:
        """Service -> its health (healthy, starting, unhealthy) or, without a healthcheck, state/exit code."""
        out = run("docker", "inspect", "--format",
                  "{{ index .Config.Labels \"com.docker.compose.service\" }} {{ if .State.Health }}"
                  "{{ .State.Health.Status }}{{ else }}{{ .State.Status }}/{{ .State.ExitCode }}{{ end }}",
                  *self("ps", "-q").split()).stdout
        return dict(line.split() for line in out.splitlines())

    def volume(self, name: str) -> Path:
        """Where the project's volume lies on this machine."""
        return Path(run("docker", "volume", "inspect", "--format", "{{ .Mountpoint }}",
                        f"{self.project}_{name}").stdout.strip())

    def logs(self, tail: int = 40) -> str:
        done = subprocess.run(["docker-compose", "-p", self.project, "-f", str(self.file), "logs", "--no-color",
                               "--tail", str(tail)], capture_output=True, text=True, timeout=300, cwd=ROOT)
        return done.stdout[-20000:]

    def down(self) -> None:
        """Stop and remove the containers, the volumes and anything else of the project."""
        self("down", "--volumes", "--remove-orphans", "--timeout", "30", timeout=600)
