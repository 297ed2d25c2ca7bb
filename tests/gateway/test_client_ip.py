"""Which address is the client's: X-Forwarded-For counts only when the peer is a trusted proxy."""

from django.test import RequestFactory

from svc_common.client_ip import client_ip


def test_a_direct_peer_is_the_client_whatever_it_claims(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert client_ip(request) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")

    assert client_ip(request) == "198.51.100.7"


def test_trusted_proxies_may_be_networks(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="10.42.3.17", HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert client_ip(request) == "198.51.100.8"
