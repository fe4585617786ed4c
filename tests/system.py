"""What a test needs from the machine: skip with the reason on a developer's machine, fail under CI."""

from __future__ import annotations

import os


def require(available: bool, what: str, why: str) -> None:
    """Skip when `what` is missing, saying why the test needs it; with CI=true its absence is a failure."""
    import pytest

    if available:
        return
    message = f"{what} is not available: {why} (make system-packages installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; with CI=true this test must run")
    pytest.skip(message)
