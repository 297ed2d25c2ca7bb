"""GET /status/: staff only, self-refreshing, HAProxy's view of every replica joined with their /metrics."""

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

CSV_COLUMNS = "pxname,svname,status,addr,stot,hrsp_5xx,check_status,last_chk,lastchg"


@pytest.fixture
def staff():
    user = get_user_model().objects.create_user("operator", password="not-used-here", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stats_csv(services):
    """An HTTP server answering like HAProxy's stats;csv: users-1 (the real replica) UP, products-9 DOWN."""
    users_address = services.url("users").removeprefix("http://")
    body = "\n".join(
        [
            f"# {CSV_COLUMNS}",
            "fe_gateway,FRONTEND,OPEN,,120,0,,,",
            f"be_users,users-1,UP,{users_address},57,2,L7OK,200,340",
            "be_products,products-9,DOWN,127.0.0.1:1,31,0,L4CON,Connection refused,4",
            "be_users,BACKEND,UP,,88,2,,,340",
            f"be_users_live,users-1,UP,{users_address},0,0,L7OK,200,340",
            "",
        ]
    ).encode()

    class Stats(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Stats)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stats;csv"
    server.shutdown()
    server.server_close()


def row(html: str, replica: str) -> str:
    match = re.search(rf'<tr data-replica="{re.escape(replica)}".*?</tr>', html, re.S)
    assert match, f"no row for {replica}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def test_anonymous_visitors_are_sent_to_the_admin_login():
    response = Client().get("/status/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/status/"


def test_a_logged_in_non_staff_user_is_sent_to_the_admin_login_too():
    client = Client()
    client.force_login(get_user_model().objects.create_user("customer", password="not-used-here"))

    response = client.get("/status/")

    assert response.status_code == 302


def test_staff_see_every_replica_with_its_haproxy_state_and_its_own_metrics(staff, settings, stats_csv):
    settings.HAPROXY_STATS_URL = stats_csv

    response = staff.get("/status/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in html
    assert row(html, "users-1").startswith("users users-1 127.0.0.1:")
    assert row(html, "users-1").endswith("UP L7OK 200 57 2 340 s up up")
    assert row(html, "products-9") == (
        "products products-9 127.0.0.1:1 DOWN L4CON Connection refused 31 0 4 s no /metrics answer"
    )
    assert 'data-replica="FRONTEND"' not in html and 'data-replica="BACKEND"' not in html
    assert html.count('data-replica="users-1"') == 1  # not again for be_users_live, its panic-routing twin
    assert re.search(r'<p id="redis" data-state="up">Redis answers every replica: rate limits are enforced', html)


def test_without_haproxy_the_page_says_why_and_shows_this_replica(staff, settings):
    settings.HAPROXY_STATS_URL = "http://127.0.0.1:1/stats;csv"

    response = staff.get("/status/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "HAProxy stats unavailable at http://127.0.0.1:1/stats;csv" in html
    assert len(re.findall(r"<tr data-replica=", html)) == 1
    assert row(html, re.search(r'<tr data-replica="([^"]+)"', html).group(1)).endswith("up up")


def test_rate_limit_rejections_and_cache_results_are_summed_from_the_metrics(staff, settings, issue_token):
    settings.HAPROXY_STATS_URL = "http://127.0.0.1:1/stats;csv"  # this replica's own metrics only
    _, key = issue_token("status-limited", rate="1/minute")
    Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/21/22/")
    Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/21/22/")

    html = staff.get("/status/").content.decode()

    assert re.search(r'<tr data-group="read"><td>read</td><td class="num">[1-9]\d*</td></tr>', html)
    assert re.search(r'<tr data-service="gateway">.*?%</td>', html, re.S)
