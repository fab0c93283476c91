"""The client address behind trusted proxies (issue 10 #2): X-Forwarded-For read from the right."""

from __future__ import annotations

import pytest

from unifiedqr.api.addresses import bucket, client_address

PROXIES = ("10.0.0.0/8", "2001:db8:ffff::/48")


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        # no trusted proxies: the socket's address, whatever the header says
        ("203.0.113.7", ["198.51.100.1"], (), "203.0.113.7"),
        # a peer that is not a trusted proxy cannot speak for anyone
        ("203.0.113.7", ["198.51.100.1"], PROXIES, "203.0.113.7"),
        # one trusted proxy: the hop it appended
        ("10.0.0.2", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        # the client's own (spoofed) entries stand left of the hop our proxy appended
        ("10.0.0.2", ["6.6.6.6, 1.1.1.1, 198.51.100.1"], PROXIES, "198.51.100.1"),
        # two trusted proxies in a chain, the header split over two lines
        ("10.0.0.2", ["1.1.1.1, 198.51.100.1", "10.0.0.9"], PROXIES, "198.51.100.1"),
        # every hop trusted: the left-most
        ("10.0.0.2", ["10.1.1.1, 10.0.0.9"], PROXIES, "10.1.1.1"),
        # garbage stops the walk at the last hop believed
        ("10.0.0.2", ["198.51.100.1, unknown"], PROXIES, "10.0.0.2"),
        ("10.0.0.2", ["nonsense, 10.0.0.9"], PROXIES, "10.0.0.9"),
        # ports and brackets, IPv6 and IPv4-mapped peers
        ("10.0.0.2", ["198.51.100.1:4711"], PROXIES, "198.51.100.1"),
        ("2001:db8:ffff::1", ["[2001:db8:1::5]:443"], PROXIES, "2001:db8:1::5"),
        ("::ffff:10.0.0.2", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        # no header from a trusted proxy: the proxy itself
        ("10.0.0.2", [], PROXIES, "10.0.0.2"),
        # not an IP at all (a test client, a Unix socket): as it is
        ("testclient", ["198.51.100.1"], PROXIES, "testclient"),
    ],
)
def test_the_right_most_untrusted_hop_is_the_client(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, trusted) == expected


def test_ipv6_clients_are_limited_by_their_64():
    assert bucket("2001:db8:1:2:aaaa::1") == bucket("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert bucket("2001:db8:1:3::1") != bucket("2001:db8:1:2::1")
    assert bucket("198.51.100.1") == "198.51.100.1"
    assert bucket("testclient") == "testclient"
