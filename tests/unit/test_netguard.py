"""The SSRF guard: which addresses and URLs are refused, and which pass."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.errors import BlockedURL
from worker.fetch.netguard import check_ip, check_url, parse_host_ip

BLOCKED = {
    "loopback-v4": "127.0.0.1",
    "loopback-v4-range": "127.255.0.9",
    "rfc1918-10": "10.1.2.3",
    "rfc1918-172": "172.16.0.1",
    "rfc1918-192": "192.168.1.1",
    "cloud-metadata": "169.254.169.254",
    "link-local-v4": "169.254.0.1",
    "cgnat": "100.64.0.1",
    "this-network": "0.1.2.3",
    "documentation": "192.0.2.10",
    "reserved-240": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "loopback-v6": "::1",
    "unique-local-v6": "fd12:3456::1",
    "link-local-v6": "fe80::1",
    "mapped-loopback": "::ffff:127.0.0.1",
    "mapped-private": "::ffff:10.0.0.1",
    "mapped-metadata": "::ffff:169.254.169.254",
    "6to4-loopback": "2002:7f00:1::",
    "nat64-private": "64:ff9b::a00:1",
    "documentation-v6": "2001:db8::1",
}
ALWAYS_BLOCKED = {
    "unspecified-v4": "0.0.0.0",
    "unspecified-v6": "::",
    "multicast-v4": "224.0.0.1",
    "multicast-v6": "ff02::1",
}
PUBLIC = {
    "example-v4": "93.184.216.34",
    "cloudflare-v6": "2606:4700::1111",
    "dns-v4": "8.8.8.8",
    "mapped-public": "::ffff:93.184.216.34",
}


class TestCheckIP:
    @pytest.mark.parametrize(
        "address", list(BLOCKED.values()) + list(ALWAYS_BLOCKED.values()), ids=[*BLOCKED, *ALWAYS_BLOCKED]
    )
    def test_non_public_addresses_refused(self, address):
        """Loopback, private, link-local, reserved and their IPv6 wrappings raise BlockedURL."""
        with pytest.raises(BlockedURL):
            check_ip(ipaddress.ip_address(address), allow_private=False)

    @pytest.mark.parametrize("address", list(PUBLIC.values()), ids=list(PUBLIC))
    def test_public_addresses_pass(self, address):
        """Public addresses pass whether or not private networks are allowed."""
        for allow_private in (False, True):
            check_ip(ipaddress.ip_address(address), allow_private=allow_private)

    @pytest.mark.parametrize("address", list(BLOCKED.values()), ids=list(BLOCKED))
    def test_allow_private_lifts_private_ranges(self, address):
        """With allow_private the private, loopback and link-local ranges pass."""
        check_ip(ipaddress.ip_address(address), allow_private=True)

    @pytest.mark.parametrize("address", list(ALWAYS_BLOCKED.values()), ids=list(ALWAYS_BLOCKED))
    def test_multicast_and_unspecified_refused_even_when_private_allowed(self, address):
        """No web server listens on multicast or 0.0.0.0, so allow_private does not lift them."""
        with pytest.raises(BlockedURL):
            check_ip(ipaddress.ip_address(address), allow_private=True)

    @given(st.ip_addresses(v=4))
    def test_mapped_form_judged_like_ipv4(self, ip):
        """An IPv4-mapped IPv6 address is refused exactly when its IPv4 address is."""

        def refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
            try:
                check_ip(address, allow_private=False)
            except BlockedURL:
                return True
            return False

        expected = refused(ip)
        assert expected == refused(ipaddress.IPv6Address(f"::ffff:{ip}"))


class TestCheckURL:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1/feed",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "ftp://example.org/feed",
            "gopher://example.org/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http:///no-host",
            "//example.org/scheme-relative",
            "http://[::1/",
        ],
        ids=[
            "loopback",
            "v6-loopback",
            "mapped",
            "metadata",
            "decimal",
            "hex",
            "octal",
            "ftp",
            "gopher",
            "javascript",
            "file-not-allowed",
            "no-host",
            "no-scheme",
            "broken",
        ],
    )
    def test_refused(self, url):
        """Non-web schemes, missing hosts and private literal hosts raise BlockedURL."""
        with pytest.raises(BlockedURL):
            check_url(url, allow_private=False, allow_file=False)

    @pytest.mark.parametrize(
        "url",
        [
            "https://example.org/feed.xml",
            "http://93.184.216.34/",
            "HTTPS://[2606:4700::1111]/x",
            "http://localhost/",
        ],
        ids=["name", "public-v4", "public-v6-upper-scheme", "name-checked-at-connect"],
    )
    def test_allowed(self, url):
        """Public literals pass, and DNS names pass here because they are checked at connect time."""
        check_url(url, allow_private=False, allow_file=False)

    def test_file_allowed_only_when_asked(self):
        """file: URLs pass only with allow_file."""
        check_url("file:///srv/feeds/local.xml", allow_private=False, allow_file=True)

        with pytest.raises(BlockedURL):
            check_url("file:///srv/feeds/local.xml", allow_private=True, allow_file=False)

    def test_error_carries_url(self):
        """The BlockedURL names the URL it refused, for the dead-letter record."""
        url = "http://10.0.0.1/x"

        with pytest.raises(BlockedURL) as caught:
            check_url(url, allow_private=False, allow_file=False)

        assert url == caught.value.url


class TestParseHostIP:
    @pytest.mark.parametrize(
        ("host", "expected"),
        [
            ("127.0.0.1", "127.0.0.1"),
            ("[::1]", "::1"),
            ("2130706433", "127.0.0.1"),
            ("0x7f.0.0.1", "127.0.0.1"),
            ("example.org", None),
            ("1.2.3.4.5", None),
        ],
        ids=["dotted", "bracketed-v6", "decimal", "hex", "name", "too-many-parts"],
    )
    def test_literals(self, host, expected):
        """Literal hosts, legacy numeric forms included, are parsed; names are not."""
        actual = parse_host_ip(host)

        assert expected == (None if actual is None else str(actual))
