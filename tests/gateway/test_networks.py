"""svc_common.networks: the one parser of address lists, behind TRUSTED_PROXIES and METRICS_ALLOWED_NETWORKS."""

import ipaddress

import pytest

from svc_common.networks import in_networks, parse_networks


def test_bare_addresses_are_single_host_networks_and_blank_entries_are_skipped():
    assert parse_networks(("127.0.0.1", " 10.0.0.0/8 ", "", "::1")) == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.42.3.17", True),
        ("127.0.0.1", True),
        ("127.0.0.2", False),
        ("::1", True),
        ("2001:db8::1", False),
        ("192.0.2.1", False),
    ],
)
def test_an_address_is_in_the_list_when_one_entry_holds_it(address, expected):
    assert in_networks(address, ["10.0.0.0/8", "127.0.0.1", "::1/128"]) is expected


@pytest.mark.parametrize("address", ["", "unknown", "10.0.0.1, 10.0.0.2", "300.1.1.1"])
def test_an_address_that_does_not_parse_is_in_no_list(address):
    assert in_networks(address, ["0.0.0.0/0", "::/0"]) is False


def test_a_host_part_in_a_network_entry_is_ignored_rather_than_refused():
    assert in_networks("10.1.2.3", ["10.9.9.9/8"]) is True
