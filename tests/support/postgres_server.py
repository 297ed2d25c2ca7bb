"""A PostgreSQL cluster of the test's own (initdb + pg_ctl from PostgreSQL 15) on a free loopback port.

Never the shared server: a test may create roles in it, stop it or break it. It runs as the postgres system
user, as initdb refuses root, in a directory of its own that it deletes on stop().
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
    """initdb'd with trust on the local socket and SCRAM passwords over TCP, like a real server's roles."""

    def __init__(self):
        self.port = free_port()
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

    def start(self) -> None:
        account = pwd.getpwnam(SYSTEM_USER)
        os.chown(self.directory, account.pw_uid, account.pw_gid)
        self._as_postgres(
            str(BIN_DIR / "initdb"), "-D", str(self.data), "-U", SYSTEM_USER,
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        )  # fmt: skip
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(BIN_DIR / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "start"
        )
        deadline = time.monotonic() + 30
        while subprocess.run(
            [str(BIN_DIR / "pg_isready"), "-q", "-h", str(self.directory), "-p", str(self.port)]
        ).returncode:
            if time.monotonic() > deadline:
                raise AssertionError(f"private PostgreSQL did not start:\n{(self.directory / 'log').read_text()}")
            time.sleep(0.1)

    @property
    def socket_env(self) -> dict:
        """libpq's environment for psql over the local socket, as the superuser (the image's init scripts' way)."""
        return {"PGHOST": str(self.directory), "PGPORT": str(self.port)}

    def connect(self, *, user: str, password: str, dbname: str):
        """A TCP connection as a role with its password (SCRAM), as a service would connect."""
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=user, password=password, dbname=dbname, connect_timeout=3
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(BIN_DIR / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
