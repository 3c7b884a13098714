"""A throwaway PostgreSQL cluster on loopback, from Debian's ``postgresql`` package.

``initdb`` into a fresh temporary directory, ``pg_ctl start`` listening on 127.0.0.1 at a free
port (no Unix socket in a shared directory), one database, trust authentication for the loopback
only; :meth:`PostgresCluster.stop` stops the server and removes the directory. PostgreSQL refuses
to run as root: as root, the server runs as the ``postgres`` system user (``runuser``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path:
    """The newest installed server's binaries (``/usr/lib/postgresql/<major>/bin``)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (.ci/system-packages does)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresCluster:
    """A running cluster; :attr:`url` is the SQLAlchemy URL of its database."""

    root: Path
    port: int
    database: str
    user: str
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @classmethod
    def start(cls, database: str = "airflow", user: str = "airflow") -> PostgresCluster:
        bin_dir = _bin_dir()
        # mkdtemp is private to its owner; the server's user must own it (and /tmp is traversable).
        root = Path(tempfile.mkdtemp(prefix="shadowtest-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(root, user="postgres", group="postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        port = _free_port()
        cluster = cls(root, port, database, user, as_user)
        data = root / "data"
        cluster._run([str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync"])
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c max_connections=200"
        try:
            cluster._run(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start"]
            )
            subprocess.run(
                [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database],
                check=True,
                capture_output=True,
                timeout=60,
            )
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, command: list[str]) -> None:
        done = subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")

    def log_tail(self, lines: int = 20) -> str:
        path = self.root / "server.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_user, str(_bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)
