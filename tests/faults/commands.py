"""`reportpipe` commands for the fault tests: in this process, or as processes of their own.

A test that needs a process boundary (two refreshes at once, a run that dies on a
full disk) starts `reportpipe ARGS` as a process forked from a server that has
imported reportpipe and Great Expectations once, as Airflow's workers do
(MP_FORKSERVER_PRELOAD): a process of its own, without paying the 5-10 s import.
The server imports this module, so of the tests it imports only tests.helpers, which imports
none of them. `reportpipe ARGS` in this process is tests.helpers.cli.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import Run


@functools.cache
def _server():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["great_expectations", "reportpipe.validation.engine", "reportpipe.validation.expectations",
                                    "reportpipe.pipeline",
                                    "reportpipe.cli", __name__])
    return context


def _reportpipe(args: list[str], env: dict[str, str], out: str, err: str, die_at: str | None) -> None:
    """The body of a `reportpipe ARGS` process: its standard output and error go to the files out and err.

    An exception that escapes is printed with its traceback on stderr and exits 1,
    as the console script does. With `die_at` (module.function) the process is killed
    (SIGKILL, as by `kill -9` or the OOM killer) the moment that function is called.
    """
    os.environ.update(env)
    if die_at:
        import importlib
        import signal

        module, function = die_at.rsplit(".", 1)
        setattr(importlib.import_module(module), function, lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
    for fd, path in ((1, out), (2, err)):
        file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(file, fd)
        os.close(file)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
    from reportpipe.cli import main

    sys.exit(main(args))


@dataclass
class Process:
    process: multiprocessing.process.BaseProcess
    out: Path
    err: Path

    def wait(self, timeout: float = 600) -> Run:
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
            raise AssertionError(f"reportpipe still ran after {timeout:.0f} s")
        return Run(self.process.exitcode, self.out.read_text(encoding="utf-8"), self.err.read_text(encoding="utf-8"))


def start(*args, env: dict[str, str], folder: Path, die_at: str | None = None) -> Process:
    """`reportpipe ARGS` as a process of its own, with env added to its environment; its output kept in folder.

    `die_at`: kill it with SIGKILL when it calls that function (module.function)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(list(folder.glob("*.out")))
    out, err = folder / f"{n}.out", folder / f"{n}.err"
    out.touch(exist_ok=False)
    process = _server().Process(target=_reportpipe, args=([str(a) for a in args], env, str(out), str(err), die_at))
    process.start()
    return Process(process, out, err)
