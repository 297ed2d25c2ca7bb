"""DRF's browsable API at the gateway (browsable.views): what the services answered, rendered for people, with page
links, filter forms and raw-data forms from the contract; content negotiation that never mixes HTML and JSON."""

import html
import json
import re
import secrets

import pytest

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
AJAX_FORM = "text/html; q=1.0, */*"  # what the browsable API's raw-data form sends (rest_framework/js/ajax-form.js)


def shown(response) -> object:
    """The JSON body the browsable API shows under the status line and headers."""
    page = response.content.decode()
    block = re.search(r'<div class="response-info".*?<pre class="prettyprint">(.*?)</pre>', page, re.S).group(1)
    text = html.unescape(re.sub(r"<[^>]+>", "", block))
    body = text.split("\n\n", 1)[1]
    return json.loads(body) if body.strip() else None


def raw_form(response, method: str) -> dict:
    """The initial content of the raw-data form whose button sends `method`."""
    page = response.content.decode()
    forms = re.findall(r"<form [^>]*>.*?</form>", page, re.S)
    (form,) = [f for f in forms if 'data-override="content"' in f and f">{method}</button>" in f.replace("\n", "")]
    content = re.search(r'<textarea[^>]*data-override="content"[^>]*>(.*?)</textarea>', form, re.S).group(1)
    return json.loads(html.unescape(content))


def test_a_person_browses_the_product_list_as_the_service_answered_it(log_in, issue_token, authed):
    person = log_in(HTTP_ACCEPT=BROWSER)
    _, key = issue_token("json-reader")

    page = person.browser.get("/api/products/?page_size=3&ordering=id")
    json_answer = authed(key).get("/api/products/?page_size=3&ordering=id")

    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert "X-Cache" not in page
    assert "<h1>Products</h1>" in page.content.decode()
    assert shown(page) == json_answer.json()


def test_the_page_links_of_a_list_are_the_services_own(log_in):
    person = log_in(HTTP_ACCEPT=BROWSER)

    page = person.browser.get("/api/products/?page_size=3").content.decode()

    assert '<a href="http://testserver/api/products/?page=2&amp;page_size=3" rel="next" aria-label="Next page">' in page
    assert '<li class="previous disabled" aria-disabled="true">' in page


def test_a_list_has_the_services_filters_search_and_ordering(log_in):
    person = log_in(HTTP_ACCEPT=BROWSER)

    page = person.browser.get("/api/products/?min_price=5").content.decode()

    assert 'data-target="#filtersModal"' in page
    for field in ("min_price", "max_price", "sku"):
        assert f'name="{field}"' in page, field
    assert 'name="min_price" value="5"' in page
    assert '<input type="text" class="form-control" style="width: 350px" name="search" value="">' in page
    assert 'ordering=-price" class="list-group-item">price - descending</a>' in page


def test_a_list_offers_a_blank_raw_data_form_for_post(log_in):
    person = log_in(HTTP_ACCEPT=BROWSER)

    page = person.browser.get("/api/products/")

    assert raw_form(page, "POST") == {"name": "", "description": "", "sku": "", "price": "", "stock": None}
    assert '<option value="application/json" selected>application/json</option>' in page.content.decode()


def test_an_object_offers_its_current_fields_for_put_and_patch_and_a_delete_button(log_in, authed, issue_token):
    person = log_in(HTTP_ACCEPT=BROWSER)
    _, key = issue_token("json-reader")
    product = authed(key).get("/api/products/5/").json()

    page = person.browser.get("/api/products/5/")
    content = page.content.decode()

    fields = {name: product[name] for name in ("name", "description", "sku", "price", "stock")}
    assert raw_form(page, "PUT") == fields
    assert 'data-method="PATCH"' in content
    assert 'data-target="#deleteModal"' in content
    assert 'data-target="#filtersModal"' not in content
    assert page["Allow"] == "GET, PUT, PATCH, DELETE, OPTIONS"


def test_a_write_from_the_raw_data_form_answers_a_page_and_its_errors_are_the_json_apis(log_in, authed, issue_token):
    person = log_in(HTTP_ACCEPT=AJAX_FORM)
    csrf = {"HTTP_X_CSRFTOKEN": person.csrf_token}
    body = {"name": "Form kettle", "sku": f"FORM-{secrets.token_hex(4)}", "price": "9.90"}
    _, key = issue_token("json-writer")

    created = person.browser.post("/api/products/", json.dumps(body), "application/json", **csrf)
    html_error = person.browser.post("/api/products/", json.dumps({**body, "price": "-1"}), "application/json", **csrf)
    json_error = authed(key).post("/api/products/", json.dumps({**body, "price": "-1"}), "application/json")

    assert (created.status_code, created["Content-Type"]) == (201, "text/html; charset=utf-8")
    assert shown(created)["sku"] == body["sku"]
    assert html_error.status_code == json_error.status_code == 400
    assert shown(html_error) == json_error.json()


def test_a_session_write_from_a_page_without_the_csrf_token_is_refused_on_a_page(log_in):
    person = log_in(HTTP_ACCEPT=AJAX_FORM)

    response = person.browser.delete("/api/products/1/")

    assert (response.status_code, response["Content-Type"]) == (403, "text/html; charset=utf-8")
    assert shown(response)["error"]["code"] == "csrf_failed"


def test_the_aggregate_is_browsable(log_in, issue_token, authed):
    person = log_in(HTTP_ACCEPT=BROWSER)
    _, key = issue_token("json-reader")

    page = person.browser.get("/api/3/4/")
    missing = person.browser.get("/api/3/999999/")

    assert page.status_code == 200
    assert "<h1>User 3 and product 4</h1>" in page.content.decode()
    assert shown(page) == authed(key).get("/api/3/4/").json()
    assert missing.status_code == 404
    assert shown(missing)["error"] == {
        "code": "not_found",
        "message": "Product 999999 does not exist.",
        "detail": {"product_id": 999999},
    }


def test_a_browser_without_a_session_or_token_gets_a_401_page_with_a_login_link(anonymous):
    response = anonymous.get("/api/products/", HTTP_ACCEPT=BROWSER)
    page = response.content.decode()

    assert (response.status_code, response["Content-Type"]) == (401, "text/html; charset=utf-8")
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert shown(response)["error"]["code"] == "not_authenticated"
    assert "href='/api-auth/login/?next=/api/products/'" in page
    assert 'data-override="content"' not in page and 'data-target="#deleteModal"' not in page


def test_a_json_client_never_gets_a_page_and_a_page_is_never_cached(log_in, client):
    person = log_in(HTTP_ACCEPT=BROWSER)

    first_json = client.get("/api/products/?page_size=4")
    page = person.browser.get("/api/products/?page_size=4")
    second_json = client.get("/api/products/?page_size=4")
    second_page = person.browser.get("/api/products/?page_size=4")

    assert [r["Content-Type"] for r in (first_json, page, second_json, second_page)] == [
        "application/json",
        "text/html; charset=utf-8",
        "application/json",
        "text/html; charset=utf-8",
    ]
    assert (first_json["X-Cache"], second_json["X-Cache"]) == ("MISS", "HIT")
    assert "X-Cache" not in page and "X-Cache" not in second_page
    assert second_json.content == first_json.content


def test_a_browser_asking_for_the_json_format_gets_the_services_answer_as_is(log_in, client):
    person = log_in(HTTP_ACCEPT=BROWSER)

    as_json = person.browser.get("/api/products/6/?format=json")

    assert as_json["Content-Type"] == "application/json"
    assert as_json.content == client.get("/api/products/6/").content


def test_a_browser_with_a_token_gets_pages_too(issue_token, authed):
    _, key = issue_token("token-browser")

    response = authed(key, HTTP_ACCEPT=BROWSER).get("/api/users/2/")

    assert response.status_code == 200
    assert shown(response)["id"] == 2
    assert "href='/api-auth/login/?next=/api/users/2/'" in response.content.decode()
