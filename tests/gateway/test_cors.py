"""CORS at the gateway (django-cors-headers): off unless CORS_ALLOWED_ORIGINS lists origins."""

import pytest

from django.conf import settings as django_settings

ORIGIN = "https://app.example"
PREFLIGHT = {"HTTP_ORIGIN": ORIGIN, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}


@pytest.fixture
def cors_enabled(settings):
    """What setting CORS_ALLOWED_ORIGINS in the environment configures."""
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    settings.CORS_URLS_REGEX = django_settings.CORS_PATHS


def cors_headers(response) -> dict:
    return {name: value for name, value in response.items() if name.lower().startswith("access-control-")}


def test_by_default_a_cross_origin_request_gets_no_cors_headers(client):
    response = client.get("/api/users/1/", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 200
    assert cors_headers(response) == {}
    assert "origin" not in response.get("Vary", "").lower()


def test_by_default_a_preflight_is_not_answered_and_needs_a_token_like_any_api_request(anonymous):
    response = anonymous.options("/api/users/", **PREFLIGHT)

    assert response.status_code == 401
    assert cors_headers(response) == {}


def test_a_configured_origin_gets_its_preflight_answered_without_a_token(cors_enabled, anonymous):
    response = anonymous.options("/api/users/", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization", **PREFLIGHT)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_configured_origin_may_read_answers_and_the_rate_limit_headers(cors_enabled, client, anonymous):
    response = client.get("/api/users/1/", HTTP_ORIGIN=ORIGIN)
    refused = anonymous.get("/api/users/1/", HTTP_ORIGIN=ORIGIN)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response["Access-Control-Expose-Headers"] == "RateLimit, RateLimit-Policy, Retry-After, X-Request-ID"
    assert refused.status_code == 401
    assert refused["Access-Control-Allow-Origin"] == ORIGIN


def test_another_origin_gets_no_cors_headers_even_when_configured(cors_enabled, client):
    response = client.get("/api/users/1/", HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 200
    assert cors_headers(response) == {}


def test_with_cors_configured_a_preflight_a_miss_and_a_hit_all_carry_the_cors_headers(cors_enabled, client, anonymous):
    preflight = anonymous.options("/api/4/5/", **PREFLIGHT)
    miss = client.get("/api/4/5/", HTTP_ORIGIN=ORIGIN)
    hit = client.get("/api/4/5/", HTTP_ORIGIN=ORIGIN)

    assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT")
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert (
        cors_headers(hit)
        == cors_headers(miss)
        == {
            "access-control-allow-origin": ORIGIN,
            "access-control-expose-headers": "RateLimit, RateLimit-Policy, Retry-After, X-Request-ID",
        }
    )
    assert hit["Vary"] == miss["Vary"] == "Authorization, Accept-Language, origin"
