"""TLS at the edge: haproxy/edge.cfg, with a self-signed certificate, in front of the stack's HAProxy.

The stack's HAProxy believes X-Forwarded-Proto and the client address from the edge only
(HAPROXY_EDGE_NETWORKS is 127.0.0.2/32, and the edge connects from 127.0.0.2), so Django sees https there:
the admin login works with Origin: https://..., and HSTS is sent. The same headers from anyone else are
replaced by what HAProxy saw.
"""

import json
import os
import re
import secrets
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from browser.staff import create_superuser
from support.redis_server import free_port
from support.stack import EDGE_ADDRESS, ROOT

HSTS = "max-age=31536000; includeSubDomains"


@dataclass(frozen=True)
class Edge:
    https_port: int
    http_port: int
    certificate: Path

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https_port}"

    def client(self, **kwargs) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.certificate))
        return httpx.Client(base_url=self.origin, verify=context, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def edge(stack, tmp_path_factory):
    directory = tmp_path_factory.mktemp("edge")
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    bundle = directory / "edge.pem"
    bundle.write_text(certificate.read_text() + key.read_text())
    edge = Edge(free_port(), free_port(), certificate)
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(ROOT / "haproxy" / "edge.cfg")],
        env={
            **os.environ,
            "EDGE_CERT": str(bundle),
            "EDGE_HTTPS_BIND": f"127.0.0.1:{edge.https_port}",
            "EDGE_HTTP_BIND": f"127.0.0.1:{edge.http_port}",
            "EDGE_UPSTREAM": f"127.0.0.1:{stack.port_base}",
            "EDGE_SOURCE_ADDRESS": EDGE_ADDRESS,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_answers(edge)
        yield edge
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_until_answers(edge: Edge, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    with edge.client() as client:
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the TLS edge did not answer")
            time.sleep(0.1)


def csrf_token(page: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def haproxy_log_line(stack, request_id: str, timeout: float = 10) -> dict:
    """The stack HAProxy's JSON log line for one request id."""
    log = stack.stack_dir / "log" / "haproxy.log"
    deadline = time.monotonic() + timeout
    while True:
        for line in log.read_text().splitlines():
            if f'"request_id":"{request_id}"' in line:
                return json.loads(line[line.index("{") :])
        if time.monotonic() > deadline:
            raise AssertionError(f"no HAProxy log line for {request_id}")
        time.sleep(0.1)


def test_admin_login_works_over_https_with_an_https_origin_and_hsts_is_sent(stack, edge):
    username, password = create_superuser(stack, "gateway")

    with edge.client() as browser:
        page = browser.get("/admin/login/?next=/admin/")
        login = browser.post(
            "/admin/login/?next=/admin/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(page)},
            headers={"Origin": edge.origin, "Referer": f"{edge.origin}/admin/login/?next=/admin/"},
        )
        home = browser.get("/admin/")

    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == HSTS
    assert (login.status_code, login.headers["Location"]) == (302, "/admin/")
    assert home.status_code == 200 and "Site administration" in home.text
    assert home.headers["Strict-Transport-Security"] == HSTS


def test_plain_http_at_the_edge_is_redirected_to_https(edge):
    response = httpx.get(f"http://127.0.0.1:{edge.http_port}/admin/login/", timeout=10)

    assert response.status_code == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{edge.http_port}/admin/login/"


def test_a_client_that_claims_https_without_the_edge_is_not_believed(stack):
    origin = f"https://127.0.0.1:{stack.port_base}"
    with httpx.Client(base_url=stack.url("gateway"), headers={"X-Forwarded-Proto": "https"}, timeout=10) as forger:
        page = forger.get("/admin/login/")
        login = forger.post(
            "/admin/login/",
            data={"username": "nobody", "password": "x", "csrfmiddlewaretoken": csrf_token(page)},
            headers={"Origin": origin},
        )

    assert page.status_code == 200
    assert "Strict-Transport-Security" not in page.headers
    # Django compares the Origin with http://, the scheme HAProxy stated: a cross-origin POST.
    assert login.status_code == 403


def test_the_edge_passes_the_client_address_and_a_direct_client_cannot_forge_one(stack, edge):
    through_edge, direct = f"edge-{secrets.token_hex(6)}", f"direct-{secrets.token_hex(6)}"

    with edge.client() as client:
        client.get("/healthz", headers={"X-Request-ID": through_edge, "X-Forwarded-For": "203.0.113.7"})
    httpx.get(
        f"{stack.url('gateway')}/healthz",
        headers={"X-Request-ID": direct, "X-Forwarded-For": "203.0.113.7"},
        timeout=10,
    )

    # The edge connected from 127.0.0.2 on behalf of the test at 127.0.0.1, and dropped the forged header.
    assert haproxy_log_line(stack, through_edge)["client"] == "127.0.0.1"
    assert haproxy_log_line(stack, direct)["client"] == "127.0.0.1"
