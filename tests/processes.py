"""The servers a test starts: a free port for each, and ending them with everything they started in turn."""

from __future__ import annotations

import contextlib
import socket


def stop(pids: list[int], timeout: float = 30) -> None:
    """Terminate these processes and all their descendants (collected first: task supervisors start
    sessions of their own), then kill whatever is still alive after `timeout`."""
    import psutil

    started = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(pid)
            started += [parent, *parent.children(recursive=True)]
    for p in started:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(started, timeout=timeout)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_server_up(url: str) -> bool:
    """Whether the Airflow api-server at this base URL answers its health check."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2):
            return True
    except OSError:
        return False
