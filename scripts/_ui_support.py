"""A real ``airflow api-server`` on loopback with Simple auth, for the UI tests and the screenshots script."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scripts._demo_support import (
    DagsTest,
    Emulator,
    Pipeline,
    airflow_env,
    migrate,
    setup_endpoint,
    stop_group,
)
from scripts._demo_support import xcom as read_xcom

if TYPE_CHECKING:
    from pathlib import Path

    from scripts._browser import Browser

#: The promotion example on a better candidate: the verdict is PROMOTE.
PIPELINE = Pipeline("ui-endpoint", "ui-prod-model", "ui-candidate-model", "better")
USERNAME = "reviewer"
PASSWORD = "shadow-test-password"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def auth_env(home: Path) -> dict[str, str]:
    """Simple auth manager with one admin user whose password is known (the passwords file)."""
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({USERNAME: PASSWORD}), encoding="utf-8")
    return {
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        # A fixed JWT secret: the dags-test run and the api-server share one home.
        "AIRFLOW__API_AUTH__JWT_SECRET": "shadowtest-ui-test-secret-not-for-production",
    }


@dataclass
class ApiServer:
    """``airflow api-server`` in its own process group on a free loopback port."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @classmethod
    def start(cls, env: dict[str, str], log_path: Path, timeout_seconds: float = 600) -> ApiServer:
        port = free_port()
        log = open(log_path, "wb")  # noqa: SIM115 - the child owns it; closed below
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow",
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env={**env, "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        server = cls(process, f"http://127.0.0.1:{port}", log_path)
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"api-server exited {process.returncode}:\n{server.tail()}")
            try:
                with urllib.request.urlopen(f"{server.url}/api/v2/monitor/health", timeout=5) as response:
                    if response.status == 200:
                        return server
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        server.stop()
        raise RuntimeError(f"api-server did not answer within {timeout_seconds:g} s:\n{server.tail()}")

    def stop(self) -> None:
        stop_group(self.process)

    def tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def token(self, username: str = USERNAME, password: str = PASSWORD) -> str:
        """A JWT from ``POST /auth/token`` (what the login form does)."""
        body = json.dumps({"username": username, "password": password}).encode()
        request = urllib.request.Request(f"{self.url}/auth/token", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.loads(response.read())["access_token"])

    def get(self, path: str, token: str | None = None, cookie: str | None = None) -> tuple[int, str]:
        """GET ``path``; return status and body (errors included)."""
        request = urllib.request.Request(f"{self.url}{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if cookie:
            request.add_header("Cookie", f"_token={cookie}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return int(response.status), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            return int(err.code), err.read().decode("utf-8", "replace")


class Deployment:
    """A promotion run and an api-server on its metadata DB: the emulator, the home, the server, the verdict."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.emulator = Emulator.start(work)
        self.server: ApiServer | None = None
        self.home = work / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {**airflow_env(self.home, self.emulator), **auth_env(self.home)}
        # Provider plugins are read from the provider's metadata only without lazy discovery; the
        # airflow.plugins entry point (the default case) needs the package installed with its
        # entry points, which a checkout on PYTHONPATH is not.
        self.env["AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS"] = "False"
        self.verdict: dict[str, Any] = {}

    def run_pipeline(self, pipeline: Pipeline = PIPELINE) -> None:
        """Run the promotion example against the emulator; keep its verdict."""
        setup_endpoint(self.emulator.client(), pipeline)
        migrate(self.home, self.env)
        run = DagsTest.start(self.env, pipeline.conf(), self.work / "dags-test.log")
        code = run.wait(timeout_seconds=1100)
        if code != 0:
            raise RuntimeError(f"the promotion run exited {code}:\n{run.tail()}")
        self.verdict = read_xcom(self.home, "evaluate")

    def start_server(self) -> ApiServer:
        self.server = ApiServer.start(self.env, self.work / "api-server.log")
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.emulator.stop()


def log_in(browser: Browser, server: ApiServer, next_path: str) -> None:
    """Sign in through Airflow's own login form, as a person does, and land on ``next_path``."""
    browser.open(f"{server.url}/auth/login/?next={server.url}{next_path}")
    browser.type_into("input[name=username]", USERNAME)
    browser.type_into("input[name=password]", PASSWORD)
    browser.wait_for("!document.querySelector('button[type=submit]').disabled")
    browser.evaluate("document.querySelector('button[type=submit]').click()")
    browser.wait_for(f"location.pathname === {json.dumps(next_path)} && document.readyState === 'complete'")


def task_page_path(home: Path, task_id: str, tab: str = "", dag_id: str = "example_shadow_test_promotion") -> str:
    """The UI route of ``task_id`` in the DAG's latest run (``tab``: e.g. ``rendered_templates``)."""
    import sqlite3
    from urllib.parse import quote

    with sqlite3.connect(home / "airflow.db") as db:
        (run_id,) = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
    path = f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id, safe='')}"
    return f"{path}/{tab}" if tab else path


def open_trigger_form(browser: Browser, server: ApiServer, dag_id: str = "example_shadow_test_promotion") -> None:
    """Open the DAG's page and its Trigger dialog, as a person does; wait for the Params form."""
    browser.open(f"{server.url}/dags/{dag_id}")
    browser.wait_for("!!document.querySelector('[data-testid=trigger-dag-button]')", timeout_seconds=60)
    browser.evaluate("document.querySelector('[data-testid=trigger-dag-button]').click()")
    browser.wait_for("!!document.querySelector('#element_endpoint_name')", timeout_seconds=60)
