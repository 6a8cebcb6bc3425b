"""Which webhook URLs we call: http(s) only, no credentials, and only globally reachable
addresses, so a tenant cannot make our workers reach loopback, the private network or a cloud
metadata service (SSRF).

Checked twice: ``check_url`` when a job is submitted (a refused URL is a 422), and at every
attempt, where the sender also resolves the name itself with ``resolve_checked`` and connects
to an address it checked, so a name that later resolves elsewhere (DNS rebinding) is refused.
``allow_private`` (``PONY_ALLOW_PRIVATE_WEBHOOKS``) lifts the address rules, not the others.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import InvalidWebhookUrl, TransientError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, Any, Any, Any, tuple[Any, ...]]]]
"""``socket.getaddrinfo``'s shape; tests pass a plain function."""

DEFAULT_PORTS = {"http": 80, "https": 443}
NOT_GLOBAL = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:2::/48", "2001:10::/28",
        "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8",
    )
)  # fmt: skip
"""The IANA special-purpose ranges that are not globally reachable, spelled out so the answer
does not depend on the Python patch release; Teredo (2001::/32) is refused whatever it embeds."""
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")


@dataclass(frozen=True, kw_only=True)
class ParsedTarget:
    """A webhook URL taken apart: ``host`` is the ASCII name, or the address in its normal
    form (``http://2130706433/`` has host ``127.0.0.1`` and ``ip`` set)."""

    scheme: str
    host: str
    port: int
    target: str
    ip: IPAddress | None = None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def url_for(self, ip: IPAddress) -> str:
        """The URL with ``ip`` in place of the host: what is connected to."""
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{host}:{self.port}{self.target}"


def is_global(ip: IPAddress) -> bool:
    """Whether ``ip`` is globally reachable; an IPv6 address that embeds an IPv4 one
    (mapped, NAT64, 6to4) is only as global as what it embeds."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_global(ip.ipv4_mapped)
        if ip in NAT64:
            return is_global(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and not is_global(ip.sixtofour):
            return False
    if any(ip in net for net in NOT_GLOBAL if net.version == ip.version):
        return False
    special = ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_loopback
    return ip.is_global and not special and not ip.is_link_local and not ip.is_unspecified


def check_url(url: str, *, allow_private: bool) -> ParsedTarget:
    """Take ``url`` apart and refuse it (``InvalidWebhookUrl``) unless it is http(s) without
    credentials whose host is a name or a global address. Names are not resolved here."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise InvalidWebhookUrl("webhook_url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidWebhookUrl("webhook_url is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidWebhookUrl("webhook_url must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise InvalidWebhookUrl("webhook_url must not carry credentials")
    if port == 0:
        raise InvalidWebhookUrl("webhook_url has an invalid port")
    host, ip = _host(parts.hostname or "", bracketed="[" in parts.netloc)
    if not allow_private:
        _refuse_private(host, ip)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ParsedTarget(
        scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme], target=target, ip=ip
    )


def resolve_checked(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = socket.getaddrinfo
) -> list[IPAddress]:
    """Every address ``host`` resolves to, refused (``InvalidWebhookUrl``) if any one of them
    is not global; ``TransientError`` when the name does not resolve."""
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TransientError(f"could not resolve {host}: {exc}") from exc
    addresses: list[IPAddress] = []
    for family, *_, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(sockaddr[0])
            if ip not in addresses:
                addresses.append(ip)
    if not addresses:
        raise TransientError(f"could not resolve {host}: no addresses")
    refused = [ip for ip in addresses if not allow_private and not is_global(ip)]
    if refused:
        raise InvalidWebhookUrl(f"{host} resolves to {refused[0]}, which is not a public address")
    return addresses


def _host(hostname: str, *, bracketed: bool) -> tuple[str, IPAddress | None]:
    """The host in normal form, and its address when it is one. IPv4 is read the way
    ``inet_aton`` (and so the resolver) reads it: decimal, octal, hex and short forms."""
    if not hostname:
        raise InvalidWebhookUrl("webhook_url has no host")
    if bracketed:
        try:
            ip6 = ipaddress.IPv6Address(hostname)
        except ValueError:
            raise InvalidWebhookUrl("webhook_url has an invalid IPv6 address") from None
        return str(ip6), ip6
    name = hostname.removesuffix(".")
    last = name.rsplit(".", 1)[-1]
    if NUMERIC_LABEL.match(last):
        try:
            ip4 = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            raise InvalidWebhookUrl("webhook_url has an invalid IPv4 address") from None
        return str(ip4), ip4
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidWebhookUrl("webhook_url has an invalid host name") from None
    if not HOST_NAME.match(ascii_name):
        raise InvalidWebhookUrl("webhook_url has an invalid host name")
    return ascii_name, None


def _refuse_private(host: str, ip: IPAddress | None) -> None:
    if ip is not None and not is_global(ip):
        raise InvalidWebhookUrl(f"webhook_url must point to a public address, not {ip}")
    if ip is None and (host == "localhost" or host.endswith(".localhost")):
        raise InvalidWebhookUrl("webhook_url must point to a public address, not localhost")
