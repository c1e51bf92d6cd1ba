"""
Refuse URLs and addresses the worker must never reach (SSRF guard).

`check_url` runs before any request and on every redirect hop; `check_ip`
runs again at connect time on the *resolved* address (see `fetch.py`), so a
hostname that resolves, or re-resolves, to a private address cannot slip past.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from worker.errors import BlockedURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

WEB_SCHEMES = frozenset({"http", "https"})

# RFC 6052 well-known NAT64 prefix: the last 32 bits are an IPv4 address
# that the translator will connect to.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Legacy IPv4 spellings that resolvers accept: 2130706433, 0x7f.1, 0177.0.0.1.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}\.?$", re.IGNORECASE)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address tunnels to, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _reason(ip: IPAddress) -> str | None:
    """Return why a non-public address is refused, or None for a public one."""
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        # 100.64/10 (carrier-grade NAT) and friends are neither private nor global.
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def check_ip(ip: IPAddress, allow_private: bool) -> None:
    """
    Raise `BlockedURL` unless `ip` is an address a web server may live on.

    Multicast and unspecified addresses are always refused: no web server is
    there, and 0.0.0.0 quietly means "this host" on Linux.  Loopback, private
    (RFC 1918, IPv6 unique-local), link-local (169.254/16 with the cloud
    metadata endpoint, fe80::/10), reserved and other non-global ranges are
    refused unless `allow_private` (tests and intranet sources).  IPv6 forms
    that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by that
    IPv4 address too.

    Args:
        ip: The address about to be connected to.
        allow_private: Let loopback, private and link-local addresses through.
    """
    if ip.is_multicast or ip.is_unspecified:
        raise BlockedURL(f"address {ip} is {'multicast' if ip.is_multicast else 'unspecified'}")
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            try:
                check_ip(inner, allow_private)
            except BlockedURL as exc:
                raise BlockedURL(f"address {ip} embeds {inner}: {exc}") from None
            if ip.ipv4_mapped is not None:
                # A mapped address is exactly its IPv4 address; the IPv6 range
                # (::ffff:0:0/96) is itself "reserved" and would refuse all.
                return
    if allow_private:
        return
    reason = _reason(ip)
    if reason is not None:
        raise BlockedURL(f"address {ip} is {reason}")


def parse_host_ip(host: str) -> IPAddress | None:
    """
    Return the address a literal host names, or None for a DNS name.

    Legacy numeric IPv4 spellings (`2130706433`, `0x7f.1`) count as literals
    because the system resolver turns them into addresses without DNS.
    """
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare.rstrip(".")))
        except OSError:
            return None
    return None


def check_url(url: str, *, allow_private: bool, allow_file: bool) -> None:
    """
    Raise `BlockedURL` unless `url` may be fetched.

    Only http and https are allowed, plus `file:` when `allow_file`.  A host
    written as an IP address is checked here; a DNS name is checked at connect
    time on the address it resolves to.

    Args:
        url: The absolute URL about to be requested.
        allow_private: Passed on to `check_ip`.
        allow_file: Allow `file:` URLs (configured local sources only).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise BlockedURL(f"invalid URL: {exc}", url=url) from exc
    scheme = parts.scheme.lower()
    if scheme == "file":
        if not allow_file:
            raise BlockedURL("file: URLs are not allowed", url=url)
        return
    if scheme not in WEB_SCHEMES:
        raise BlockedURL(f"scheme {scheme or '(none)'!r} is not allowed", url=url)
    if not host:
        raise BlockedURL("URL has no host", url=url)
    ip = parse_host_ip(host)
    if ip is not None:
        try:
            check_ip(ip, allow_private)
        except BlockedURL as exc:
            raise BlockedURL(str(exc), url=url) from None
