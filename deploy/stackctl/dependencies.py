"""Restart the stack's Redis or PostgreSQL as their service manager would, for the fault drill.

Only servers that run on this machine: the process is found from the server itself (Redis' INFO, the
PostgreSQL data directory), then restarted the way it runs: `systemctl restart` for a systemd unit,
`pg_ctlcluster` for a Debian cluster, otherwise `pg_ctl restart` or the same redis-server command line,
as the user that owns it.
"""

import os
import pwd
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from .processes import StackError, is_alive, wait_until

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _as_owner(command: list[str], uid: int) -> list[str]:
    """Run as the server's owner: directly when that is us, through runuser when we are root."""
    if uid == os.getuid():
        return command
    if os.getuid() == 0:
        return ["runuser", "-u", pwd.getpwuid(uid).pw_name, "--", *command]
    raise StackError(f"the server runs as {pwd.getpwuid(uid).pw_name}: restart it as that user or as root")


def _systemd_unit(pid: int) -> str | None:
    try:
        cgroup = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return None
    match = re.search(r"/system\.slice/([^/\s]+\.service)", cgroup)
    return match.group(1) if match else None


# redis-server rewrites its process title, so its command line is rebuilt from what shapes a restart:
# the configuration file it read, then these settings as they are now.
REDIS_SETTINGS = (
    "port", "bind", "unixsocket", "dir", "dbfilename", "save", "appendonly", "daemonize", "logfile",
    "pidfile", "protected-mode", "databases", "requirepass", "maxmemory", "maxmemory-policy",
)  # fmt: skip


def _redis_arguments(client, config_file: str) -> list[str]:
    values = {name: client.config_get(name).get(name, "") for name in REDIS_SETTINGS}
    arguments = [config_file] if config_file else []
    for name, value in values.items():
        if value or name == "save":  # an empty save list means "never save", not "default"
            arguments += [f"--{name}", value]
    return arguments


def redis_restart(url: str, *, log_path: Path, timeout: float = 15.0) -> float:
    """SHUTDOWN the Redis at url and start it again; returns the seconds it did not answer."""
    import redis

    if urlparse(url).hostname not in LOOPBACK:
        raise StackError(f"Redis at {url} is not on this machine: restart it with its own tools")
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    info = client.info("server")
    pid = int(info["process_id"])
    if not Path(f"/proc/{pid}").exists():
        raise StackError(f"Redis at {url} (pid {pid}) is not a process this machine can see")
    uid = os.stat(f"/proc/{pid}").st_uid
    unit = _systemd_unit(pid) if info.get("process_supervised") == "systemd" else None
    # The binary decides what to be from its name (redis-server and redis-check-rdb are one file): keep it.
    name = Path(info.get("executable") or "redis-server").name
    executable = Path(os.readlink(f"/proc/{pid}/exe")).with_name(name)
    command = [str(executable), *_redis_arguments(client, info.get("config_file") or "")]
    cwd = os.readlink(f"/proc/{pid}/cwd")
    started = time.monotonic()
    if unit:
        subprocess.run(["systemctl", "restart", unit], check=True, timeout=timeout)
    else:
        client.shutdown()
        wait_until(lambda: not is_alive(pid), timeout=timeout, what=f"Redis (pid {pid}) to stop")
        with open(log_path, "ab") as log:
            subprocess.Popen(
                _as_owner(command, uid),
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_until(answers, timeout=timeout, what=f"Redis at {url} to answer again", interval=0.02)
    return time.monotonic() - started


def postgres_restart(dsn: str, *, log_path: Path, timeout: float = 60.0) -> float:
    """Restart the PostgreSQL server behind dsn (fast shutdown); returns the seconds it refused connections."""
    import psycopg2

    parsed = urlparse(dsn)
    if parsed.hostname not in LOOPBACK:
        raise StackError(f"PostgreSQL at {parsed.hostname} is not on this machine: restart it with its own tools")
    with psycopg2.connect(dsn, connect_timeout=3) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory'), current_setting('config_file')")
        data_directory, config_file = cursor.fetchone()
    connection.close()
    pid = int(Path(data_directory, "postmaster.pid").read_text().split()[0])
    uid = os.stat(data_directory).st_uid
    debian = re.fullmatch(r"/etc/postgresql/([^/]+)/([^/]+)/postgresql\.conf", config_file)
    if debian:
        command = ["pg_ctlcluster", debian.group(1), debian.group(2), "restart", "-m", "fast"]
    else:
        pg_ctl = str(Path(os.readlink(f"/proc/{pid}/exe")).with_name("pg_ctl"))
        command = _as_owner([pg_ctl, "-D", data_directory, "-w", "-m", "fast", "restart"], uid)
    started = time.monotonic()
    # The new postmaster keeps pg_ctl's stdout: a file of ours outlives this process, a pipe would not.
    with open(log_path, "ab") as log:
        result = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout
        )
    if result.returncode != 0:
        raise StackError(f"{' '.join(command)} failed ({result.returncode}); see {log_path}")

    def accepts() -> bool:
        try:
            psycopg2.connect(dsn, connect_timeout=1).close()
        except psycopg2.OperationalError:
            return False
        return True

    wait_until(accepts, timeout=timeout, what="PostgreSQL to accept connections again", interval=0.05)
    return time.monotonic() - started
