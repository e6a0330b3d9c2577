"""`jobdeck dashboard` believes X-Forwarded-For only from the proxies the operator names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from jobdeck import JobDeck
from jobdeck.store.base import AuditFilter
from tests.ports import free_port

JOBDECK = str(Path(sys.executable).with_name("jobdeck"))
FORGED = {"X-Forwarded-For": "203.0.113.9"}


@contextmanager
def dashboard(database: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    command = [JOBDECK, "dashboard", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--database", database],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/login", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    pytest.fail(f"the dashboard did not start:\n{server.communicate()[0]}")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=10)


def failed_login_ip(url: str, database: str) -> str | None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = opener.open(urllib.request.Request(f"{url}/login", headers=FORGED)).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    data = {"email": "ghost@example.com", "password": "nope", "csrf_token": token.group(1)}
    post = urllib.request.Request(
        f"{url}/login", data=urllib.parse.urlencode(data).encode(), headers=FORGED
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(post)
    refused.value.close()
    assert refused.value.code == 401
    deck = JobDeck(database)
    try:
        rows = deck.store.list_audit(AuditFilter(action_type="login_failed", executions=False), 5)
    finally:
        deck.close()
    return rows[0].ip


@pytest.mark.parametrize(("trusted", "expected"), [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")])
def test_forwarded_for_counts_only_from_a_trusted_proxy(
    tmp_path: Path, trusted: str, expected: str
) -> None:
    database = f"sqlite:///{tmp_path / 'jobs.db'}"
    subprocess.run([JOBDECK, "db", "migrate", "--database", database], check=True)
    with dashboard(database, {"JOBDECK_TRUSTED_PROXIES": trusted}) as url:
        assert failed_login_ip(url, database) == expected
