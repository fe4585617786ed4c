"""A real `airflow api-server` on SQLite, for the tests of pages in the Airflow UI.

`ApiServer` gets its own Airflow home, metadata database, free port and SimpleAuthManager
users with known passwords (one, or several by name and role); `stop()` ends the processes it started.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import api_server_up, free_port, stop

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


class ApiServer:
    """`airflow api-server` on 127.0.0.1 with a fresh SQLite metadata database and one user."""

    def __init__(self, root: Path, env: dict[str, str], user: str = "operator", role: str = "viewer",
                 users: dict[str, str] | None = None):
        users = users or {user: role}
        self.root, self.user = root, next(iter(users))
        self.passwords = {name: secrets.token_urlsafe(12) for name in users}
        self.password = self.passwords[self.user]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "api-server.log"
        passwords = root / "passwords.json"
        passwords.write_text(json.dumps(self.passwords))
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(root / "airflow_home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{root / 'airflow.db'}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{name}:{r}" for name, r in users.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        done = subprocess.run([AIRFLOW, "db", "migrate"], env=self.env, capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        with self.log.open("w") as log:
            self.process = subprocess.Popen([AIRFLOW, "api-server"], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not api_server_up(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the api-server did not come up; its log:\n{self.log.read_text()[-4000:]}")
            time.sleep(1)

    def token(self, user: str | None = None) -> str:
        """A JWT for the user (the first one by default), as Airflow's login page gets one."""
        user = user or self.user
        request = urllib.request.Request(
            f"{self.url}/auth/token", json.dumps({"username": user, "password": self.passwords[user]}).encode(),
            {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)["access_token"]

    def get(self, path: str, token: str | None = None) -> tuple[int, str]:
        """Status and body of a GET, with the token as Airflow's UI sends it (the `_token` cookie) if given."""
        request = urllib.request.Request(self.url + path, headers={"Cookie": f"_token={token}"} if token else {})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def headers(self, path: str, token: str):
        """The response headers of a GET with the user's token (names in any case)."""
        request = urllib.request.Request(self.url + path, headers={"Cookie": f"_token={token}"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.headers

    def stop(self) -> None:
        if self.process is not None:
            stop([self.process.pid], timeout=20)
            self.process = None
