"""A PostgreSQL cluster of the test's own (initdb + pg_ctl from PostgreSQL 15) on a free loopback port.

Never the shared server: a test may create roles in it, shut it down, restart it or break it. It runs as
the postgres system user, as initdb refuses root, in a directory of its own that stop() deletes.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

from .redis_server import free_port

BIN_DIR = Path(os.environ.get("POSTGRES_BIN_DIR", "/usr/lib/postgresql/15/bin"))
SYSTEM_USER = "postgres"
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


def missing() -> str | None:
    """Why a private cluster cannot run here, or None."""
    if not (BIN_DIR / "initdb").exists():
        return f"no initdb in {BIN_DIR} (apt-get install postgresql-15)"
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        return f"no '{SYSTEM_USER}' system user to run PostgreSQL as"
    return None


class PostgresServer:
    """initdb'd with trust on the local socket and, over TCP, SCRAM passwords like a real server's roles, or
    trust (host_auth="trust") for a stack that connects as postgres, as the machine's own server lets it."""

    def __init__(self, *, host_auth: str = "scram-sha-256"):
        self.port = free_port()
        self.host_auth = host_auth
        self.directory = Path(tempfile.mkdtemp(prefix="pg-private-"))
        self.data = self.directory / "data"

    def _as_postgres(self, *command: str, env: dict | None = None, stdin=None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [RUNUSER, "-u", SYSTEM_USER, "--", *command],
            env={**os.environ, **(env or {})},
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    def _pg_ctl(self, *args: str) -> None:
        self._as_postgres(str(BIN_DIR / "pg_ctl"), "-D", str(self.data), *args)

    def start(self) -> None:
        """initdb the first time; start, and wait until it accepts connections."""
        if not self.data.exists():
            account = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.directory, account.pw_uid, account.pw_gid)
            self._as_postgres(
                str(BIN_DIR / "initdb"), "-D", str(self.data), "-U", SYSTEM_USER,
                "--auth-local=trust", f"--auth-host={self.host_auth}", "--no-sync",
            )  # fmt: skip
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", str(self.directory / "log"), "start")
        deadline = time.monotonic() + 30
        while subprocess.run(
            [str(BIN_DIR / "pg_isready"), "-q", "-h", str(self.directory), "-p", str(self.port)]
        ).returncode:
            if time.monotonic() > deadline:
                raise AssertionError(f"private PostgreSQL did not start:\n{(self.directory / 'log').read_text()}")
            time.sleep(0.1)

    def shutdown(self, mode: str = "fast") -> None:
        """Stop it and keep its data, for start() to bring it back (as a restart does)."""
        self._pg_ctl("-m", mode, "-w", "stop")

    @property
    def socket_env(self) -> dict:
        """libpq's environment for psql over the local socket, as the superuser (the image's init scripts' way)."""
        return {"PGHOST": str(self.directory), "PGPORT": str(self.port)}

    def dsn(self, database: str = "postgres") -> str:
        """A URL as the superuser over TCP (host_auth="trust")."""
        return f"postgres://{SYSTEM_USER}@127.0.0.1:{self.port}/{database}"

    def connect(self, *, user: str, password: str, dbname: str):
        """A TCP connection as a role with its password (SCRAM), as a service would connect."""
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=user, password=password, dbname=dbname, connect_timeout=3
        )

    def stop(self) -> None:
        """Stop it, whoever started it last (a drill may have restarted it), and delete its files."""
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
