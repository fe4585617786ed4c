"""Headless Chromium for tests: the DOM of a page after its JavaScript ran, optionally with no
network (`dump_dom`), or a browser to drive through chromedriver (`driver`).

    from tests.browser import dump_dom
    html = dump_dom(path.as_uri(), offline=True)

Debian's chromium and chromium-driver (`make system-packages`): without them the test skips
with the reason, and fails when CI=true.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import tempfile

from tests.system import require

CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium() -> str:
    """The Chromium binary; skips (fails under CI=true) when it is not installed."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require(path is not None, "chromium", "the test renders pages in a headless browser")
    return path


def chromium_flags(user_data_dir: str) -> list[str]:
    """Headless, as root, without a sandbox, GPU, first-run or background traffic, in a fresh profile."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000",
            f"--user-data-dir={user_data_dir}"]


@contextlib.contextmanager
def driver():
    """A headless Chromium driven through chromedriver (selenium), with a fresh profile, closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = chromium()
    require(shutil.which(CHROMEDRIVER) is not None, "chromedriver", "the test drives a headless browser")
    with tempfile.TemporaryDirectory(prefix="reportpipe-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for flag in chromium_flags(profile):
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            browser.implicitly_wait(20)
            yield browser
        finally:
            browser.quit()


def log_in(browser, server, user: str | None = None) -> None:
    """Through Airflow's own login page, where Airflow sends an anonymous visitor (tests/api_server.py's user)."""
    from selenium.webdriver.common.by import By

    user = user or server.user
    browser.get(server.url + "/")
    browser.find_element(By.NAME, "username").send_keys(user)
    browser.find_element(By.NAME, "password").send_keys(server.passwords[user])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    browser.find_element(By.XPATH, "//a[normalize-space()='Report']")  # logged in


@functools.cache
def can_isolate_network() -> bool:
    """Whether this machine lets a process run in its own network namespace (no interface but a down loopback)."""
    unshare = shutil.which("unshare")
    return unshare is not None and subprocess.run([unshare, "--map-root-user", "--net", "true"],
                                                  capture_output=True).returncode == 0


def dump_dom(url: str, offline: bool = False, budget_ms: int = 10_000) -> str:
    """The page's DOM once its scripts ran (up to budget_ms of virtual time); offline: in a network namespace of its own."""
    command = [chromium()]
    with tempfile.TemporaryDirectory(prefix="reportpipe-chromium-") as profile:
        command += [*chromium_flags(profile), f"--virtual-time-budget={budget_ms}", "--dump-dom", url]
        if offline:
            require(can_isolate_network(), "unshare --net", "the test opens the page with the network off")
            command = ["unshare", "--map-root-user", "--net", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"chromium failed on {url} (exit {done.returncode}): {done.stderr[-2000:]}")
    return done.stdout
