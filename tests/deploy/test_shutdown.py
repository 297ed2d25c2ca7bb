"""HAProxy's preStop hook, run for real against a real HAProxy: it returns only once the drain is over.

The kubelet sends SIGTERM (HAProxy's hard stop) as soon as preStop returns, so a hook that returns right
after the soft stop's SIGUSR1 cuts the requests still in flight.
"""

import re
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import deploy_checks as checks
import pytest

from support.redis_server import free_port

SLOW_SECONDS = 1.5


class SlowBackend(ThreadingHTTPServer):
    """Answers 200 after SLOW_SECONDS, and says when a request arrived."""

    def __init__(self):
        self.arrived = threading.Event()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                backend.arrived.set()
                time.sleep(SLOW_SECONDS)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def haproxy_with_a_request_in_flight(tmp_path):
    """(master pid, the in-flight request's result) with HAProxy in master-worker mode, as in the image."""
    backend = SlowBackend()
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    port = free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        "global\n    master-worker\n    hard-stop-after 30s\n"
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"
        f"frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n"
        f"backend be\n    server slow 127.0.0.1:{backend.server_address[1]}\n"
    )
    process = subprocess.Popen([checks.haproxy_binary(), "-W", "-db", "-f", str(config)], stderr=subprocess.DEVNULL)
    # Reaped as soon as it exits: `kill -0` on an unreaped zombie would still succeed.
    threading.Thread(target=process.wait, daemon=True).start()
    result = {}

    def call():
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/slow", timeout=10) as response:  # noqa: S310
                    result.update(status=response.status, finished=time.monotonic())
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    client = threading.Thread(target=call)
    client.start()
    assert backend.arrived.wait(10), "the request never reached the backend"
    yield process, result
    client.join(timeout=10)
    if process.poll() is None:
        process.kill()
    backend.shutdown()


def prestop_for(pid: int) -> list[str]:
    """The manifest's preStop command, aimed at `pid` instead of PID 1 and without its 10 s endpoint delay."""
    spec = checks.by_kind(checks.k8s_resources(), "Deployment")["haproxy"]["spec"]["template"]["spec"]
    command = spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    script = re.sub(r"kill (-USR1|-0) 1\b", rf"kill \1 {pid}", command[-1].replace("sleep 10;", "sleep 0;"))
    assert str(pid) in script and "sleep 10" not in script, script
    return [*command[:-1], script]


def test_haproxy_prestop_returns_only_after_the_in_flight_request_finished_and_haproxy_exited(
    haproxy_with_a_request_in_flight,
):
    process, result = haproxy_with_a_request_in_flight

    subprocess.run(prestop_for(process.pid), timeout=40, check=True)
    returned = time.monotonic()

    assert result["status"] == 200
    assert result["finished"] <= returned
    assert process.poll() is not None


def test_the_old_prestop_returned_while_a_request_was_still_in_flight(haproxy_with_a_request_in_flight):
    process, result = haproxy_with_a_request_in_flight

    subprocess.run(["/bin/sh", "-c", f"sleep 0; kill -USR1 {process.pid}"], timeout=10, check=True)

    assert "status" not in result, "the hook returned before the request finished: SIGTERM would cut it"
    assert process.poll() is None
