"""The API described for people and programs (apidocs.views): the front door at / with content negotiation, the
API root at /api/, Swagger UI and ReDoc from local assets; all public and never metered."""

import re

import pytest
from django_redis import get_redis_connection

from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
LINKS = {
    "api": "http://testserver/api/",
    "docs": "http://testserver/api/docs/",
    "redoc": "http://testserver/api/redoc/",
    "schema": "http://testserver/schema",
    "login": "http://testserver/api-auth/login/",
    "tokens": "http://testserver/tokens/",
    "status": "http://testserver/status/",
}


def test_a_browser_at_the_front_door_gets_a_page_with_every_link(anonymous):
    response = anonymous.get("/", HTTP_ACCEPT=BROWSER)
    page = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "Accept" in response["Vary"]
    assert "<h1>API gateway <small>version 1.0.0</small></h1>" in page
    for link in ("/api/", "/api/docs/", "/api/redoc/", "/schema", "/status/"):
        assert f'href="http://testserver{link}"' in page, link
    assert 'id="front-login" href="http://testserver/api-auth/login/?next=/api/"' in page


@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
def test_a_json_client_at_the_front_door_gets_the_links_as_json(anonymous, accept):
    response = anonymous.get("/", **({"HTTP_ACCEPT": accept} if accept else {}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"name": "API gateway", "version": "1.0.0", "links": LINKS}


def test_a_browser_asking_for_the_json_format_gets_json(anonymous):
    response = anonymous.get("/?format=json", HTTP_ACCEPT=BROWSER)

    assert response["Content-Type"] == "application/json"
    assert response.json()["links"] == LINKS


def test_a_format_the_front_door_cannot_give_is_406_in_the_error_shape(anonymous):
    response = anonymous.get("/", HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert response.json()["error"]["code"] == "not_acceptable"


def test_a_logged_in_person_is_greeted_by_name(log_in):
    person = log_in("greeted", HTTP_ACCEPT=BROWSER)

    page = person.browser.get("/").content.decode()

    assert '<strong id="logged-in-as">greeted</strong>' in page
    assert 'id="logout">Log out greeted</button>' in page


@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
def test_the_api_root_lists_the_routes_to_anyone_without_a_token(anonymous, accept):
    response = anonymous.get("/api/", **({"HTTP_ACCEPT": accept} if accept else {}))

    assert response.status_code == 200
    assert response.json() == {
        "users": "http://testserver/api/users/",
        "products": "http://testserver/api/products/",
        "user_product": "http://testserver/api/{user_id}/{product_id}/",
        "auth_token": "http://testserver/api/auth/token/",
    }


def test_the_api_root_is_browsable_with_a_login_link(anonymous):
    response = anonymous.get("/api/", HTTP_ACCEPT=BROWSER)
    page = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>API root</h1>" in page
    assert '<a href="http://testserver/api/products/" rel="nofollow">http://testserver/api/products/</a>' in page
    assert "href='/api-auth/login/?next=/api/'" in page


@pytest.mark.parametrize(
    "path, asset", [("/api/docs/", "swagger-ui-bundle.js"), ("/api/redoc/", "redoc.standalone.js")]
)
def test_the_interactive_docs_are_served_from_the_gateways_own_static_files(anonymous, path, asset):
    response = anonymous.get(path, HTTP_ACCEPT=BROWSER)
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)

    assert response.status_code == 200
    assert [s for s in sources if s.startswith(("http:", "https:", "//"))] == []
    (local,) = [s for s in sources if s.endswith(asset)]
    assert local.startswith("/static/drf_spectacular_sidecar/")
    assert finders.find(local.removeprefix("/static/")) is not None
    assert '"/schema"' in page or "'/schema'" in page


def test_swagger_ui_sends_the_csrf_token_with_a_sessions_writes(anonymous):
    page = anonymous.get("/api/docs/", HTTP_ACCEPT=BROWSER).content.decode()

    assert re.search(r'request\.headers\["X-CSRFTOKEN"\] = "[A-Za-z0-9]{64}";', page)
    assert '"persistAuthorization": true' in page


def test_the_public_pages_are_not_metered(anonymous):
    for path in ("/", "/api/", "/api/docs/", "/api/redoc/", "/schema/"):
        response = anonymous.get(path)
        assert response.status_code == 200, path
        assert "RateLimit" not in response, path

    assert get_redis_connection("default").keys("gw:rl:*") == []
