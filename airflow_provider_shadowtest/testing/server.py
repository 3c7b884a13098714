"""moto's server plus the shadow-test extension: ``python -m airflow_provider_shadowtest.testing.server``.

Serves every moto service on one port, with the inference-experiment operations, and control
routes under ``/_shadowtest/`` (moto's dispatcher would send them to S3, hence this wrapper):

``GET  /_shadowtest/stats``     requests received per operation (JSON object); with a
                                ``"rejected"`` object of the requests refused per operation,
                                once there are any (see ``testing.request_gate``)
``GET  /_shadowtest/rejected``  requests refused before they ran, per operation
``GET  /_shadowtest/faults``    faults injected per operation
``GET  /_shadowtest/fault-kinds``  faults injected per operation and kind
``POST /_shadowtest/reset``     zero both counts
``GET  /_shadowtest/settings``  the current settings; ``POST`` a JSON object to change some
``GET  /_shadowtest/health``    ``{"ok": true}``

moto's own ``POST /moto-api/reset`` still wipes all state, experiments included. Settings come
from ``SHADOWTEST_*`` environment variables (see ``testing.settings``), then the CLI flags.
With ``--port 0`` a free port is chosen; the first stdout line says
``listening on http://HOST:PORT``. Request logs go to ``--log-file`` or nowhere.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import ThreadedWSGIServer

from airflow_provider_shadowtest.testing.counters import COUNTERS
from airflow_provider_shadowtest.testing.faults import DropConnection
from airflow_provider_shadowtest.testing.handle import EmulatorHandle
from airflow_provider_shadowtest.testing.install import install
from airflow_provider_shadowtest.testing.request_gate import OVERSIZE_ENVIRON_KEY
from airflow_provider_shadowtest.testing.settings import (
    EmulatorSettings,
    current_settings,
    set_settings,
    update_settings,
)

CONTROL_PREFIX = "/_shadowtest/"
StartResponse = Callable[..., Any]
_DRAIN_CHUNK_BYTES = 65_536


class ShadowTestApp:
    """WSGI app: the control routes, then moto's dispatcher; a dropped-connection fault closes the socket."""

    def __init__(self, moto_app: Callable[..., Any] | None = None) -> None:
        self.moto_app = moto_app or DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :].strip("/"))
        _refuse_oversize(environ)
        try:
            return self.moto_app(environ, start_response)  # type: ignore[no-any-return]
        except DropConnection as exc:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError(f"shadowtest: dropped {exc}") from None

    def _control(self, environ: dict[str, Any], start_response: StartResponse, route: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        status: int = 200
        body: dict[str, Any] = {}
        if route == "stats" and method == "GET":
            body = dict(COUNTERS.requests())
            rejected = COUNTERS.rejected()
            if rejected:
                body["rejected"] = rejected
        elif route == "rejected" and method == "GET":
            body = COUNTERS.rejected()
        elif route == "faults" and method == "GET":
            body = dict(COUNTERS.faults())
        elif route == "fault-kinds" and method == "GET":
            body = COUNTERS.fault_kinds_by_operation()
        elif route == "reset" and method == "POST":
            COUNTERS.reset()
            body = {"reset": True}
        elif route == "settings" and method == "GET":
            body = current_settings().to_json()
        elif route == "settings" and method == "POST":
            try:
                changes = json.loads(_read_body(environ) or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object")
                body = update_settings(**changes).to_json()
            except (ValueError, TypeError) as exc:
                status, body = 400, {"error": str(exc)}
        elif route == "health":
            body = {"ok": True}
        else:
            status, body = 404, {"error": f"no route {method} {CONTROL_PREFIX}{route}"}
        payload = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]


def _refuse_oversize(environ: dict[str, Any]) -> None:
    """Leave a body above ``max_request_bytes`` unread: moto gets an empty one and a marker.

    The bytes are drained from the socket in chunks and dropped (never held or parsed), so the
    client, still sending, reads the 413 instead of a reset connection.
    """
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared <= current_settings().max_request_bytes:
        return
    stream = environ["wsgi.input"]
    remaining = declared
    while remaining > 0:
        chunk = stream.read(min(_DRAIN_CHUNK_BYTES, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
    environ[OVERSIZE_ENVIRON_KEY] = declared
    environ["CONTENT_LENGTH"] = "0"
    environ["wsgi.input"] = io.BytesIO(b"")


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length > 0 else b""


class _QuietHandler(MotoRequestHandler):
    """Request logs go to the server's log file, or nowhere (a piped stderr could block)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        server_log = getattr(self.server, "log_file", None)
        if server_log is not None:
            server_log.write(f"{self.address_string()} [{type}] {message % args}\n")
            server_log.flush()


class _Server(ThreadedWSGIServer):
    log_file: IO[str] | None = None

    def log(self, type: str, message: str, *args: Any) -> None:
        if self.log_file is not None:
            self.log_file.write(f"[{type}] {message % args if args else message}\n")
            self.log_file.flush()


class EmulatorServer(EmulatorHandle):
    """The emulator served over HTTP from a thread: ``with EmulatorServer(port=0) as server: server.url``.

    :param settings: settings applied on start (restored on stop); keyword ``changes`` on top.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: EmulatorSettings | None = None,
        *,
        log_file: IO[str] | None = None,
        **changes: Any,
    ) -> None:
        self.host = host
        self.port = port
        self._settings = (settings or current_settings()).replace(**changes)
        self._log_file = log_file
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._previous: EmulatorSettings | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        install()
        self._previous = set_settings(self._settings)
        server = _Server(self.host, self.port, ShadowTestApp(), handler=_QuietHandler)
        server.log_file = self._log_file
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="shadowtest-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._previous is not None:
            set_settings(self._previous)
            self._previous = None

    def serve_forever(self) -> None:
        """Block serving (for the CLI); ``stop()`` from a signal handler ends it."""
        install()
        set_settings(self._settings)
        server = _Server(self.host, self.port, ShadowTestApp(), handler=_QuietHandler)
        server.log_file = self._log_file
        self.port = int(server.server_address[1])
        self._server = server
        print(f"listening on {self.url}", flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_shadowtest.testing.server",
        description="moto plus the SageMaker shadow-test emulator. Flags override SHADOWTEST_* variables.",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5000, help="port; 0 picks a free one (default 5000)")
    p.add_argument("--log-file", help="write request logs here (default: discard)")
    p.add_argument("--transition-seconds", type=float, help="duration of Creating/Starting/Stopping/Updating")
    p.add_argument("--fault-rate", type=float, help="share of SageMaker calls answered with a fault (0..1)")
    p.add_argument(
        "--fault-kinds",
        help="comma-separated: throttling,http500,http503,drop,drop_after "
        "(drop: closed before processing; drop_after: processed, then closed without an answer)",
    )
    p.add_argument("--fault-seed", type=int, help="seed of the fault dice")
    p.add_argument("--fault-operations", help="comma-separated SageMaker operations to fault (default all)")
    p.add_argument("--metrics-seed", type=int, help="seed of the synthetic CloudWatch metrics")
    p.add_argument("--traffic-profiles", help="JSON object keyed by model name, or @path to a JSON file")
    p.add_argument("--max-request-bytes", type=int, help="larger request bodies are refused unread (HTTP 413)")
    p.add_argument("--cloudwatch-lag-seconds", type=float, help="CloudWatch publication lag of the synthetic metrics")
    p.add_argument(
        "--no-percentiles",
        dest="percentiles_available",
        action="store_const",
        const=False,
        help="CloudWatch answers no percentile statistics for the SageMaker metrics",
    )
    return p


def settings_from_args(args: argparse.Namespace, base: EmulatorSettings | None = None) -> EmulatorSettings:
    """Environment first, then the flags given."""
    settings = EmulatorSettings.from_env(base=base)
    changes: dict[str, Any] = {}
    for name in (
        "transition_seconds",
        "fault_rate",
        "fault_kinds",
        "fault_seed",
        "fault_operations",
        "metrics_seed",
        "max_request_bytes",
        "cloudwatch_lag_seconds",
        "percentiles_available",
    ):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.traffic_profiles:
        raw = args.traffic_profiles
        if raw.startswith("@"):
            with open(raw[1:], encoding="utf-8") as fh:
                raw = fh.read()
        changes["traffic_profiles"] = json.loads(raw)
    return settings.replace(**changes)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    log_file = open(args.log_file, "a", encoding="utf-8") if args.log_file else None  # noqa: SIM115
    server = EmulatorServer(args.host, args.port, settings, log_file=log_file)

    def _shutdown(signum: int, frame: Any) -> None:
        running = server._server
        if running is not None:
            threading.Thread(target=running.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    try:
        server.serve_forever()
    finally:
        if log_file is not None:
            log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
