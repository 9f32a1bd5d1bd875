"""Where a webhook may go: public addresses only, unless an allow-list setting names the target.

A webhook URL is chosen by an admin, but the request is sent from inside our network: without a check
it could reach the cloud's metadata service (169.254.169.254), a database, or our own admin routes
(server-side request forgery). So a URL whose host is one of the services' own hosts, or resolves to
an address that is not globally routable (loopback, link-local, private, shared, reserved, multicast),
is refused when an admin registers it and again before every delivery round, because DNS may have
changed in between. The delivery then connects to exactly the address that was checked (no second
lookup an attacker's DNS could answer differently). Development and tests name loopback in
``REFERRALS_WEBHOOK_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


class RefusedAddress(ValueError):
    """The URL's host is one of ours or resolves to an address webhooks may not reach."""


class UnresolvedHost(OSError):
    """The host has no address right now (a delivery retries; a registration is accepted)."""


async def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (IPv4 and IPv6)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def not_public(ip: IPAddress) -> str | None:
    """Why webhooks may not go to ``ip`` (None when they may)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return not_public(ip.ipv4_mapped)
    for why, hit in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("not globally routable", not ip.is_global),
    ):
        if hit:
            return why
    return None


@dataclass(frozen=True)
class Target:
    """A checked webhook target: the URL as registered and the address to connect to."""

    url: httpx.URL
    address: str

    def request_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address (the Host header keeps the name)."""
        return self.url.copy_with(host=self.address)

    def request_headers(self) -> dict[str, str]:
        host = self.url.host if self.url.port is None else f"{self.url.host}:{self.url.port}"
        return {"Host": host}

    def request_extensions(self) -> dict[str, str]:
        """TLS: send and verify the certificate for the registered name, not the address."""
        return {"sni_hostname": self.url.host} if self.url.scheme == "https" else {}


@dataclass(frozen=True)
class AddressGuard:
    """The rule above, with the settings that tune it.

    ``allowed``: host names, addresses or networks (``127.0.0.1``, ``localhost``, ``10.1.0.0/16``) that
    webhooks may reach anyway. ``own_hosts``: names of our own hosts; an entry starting with ``.`` refuses
    every name ending in it (``.svc.cluster.local``).
    """

    allowed: Sequence[str] = ()
    own_hosts: Sequence[str] = ()
    resolver: Resolver = field(default=resolve)

    def _named(self, host: str, names: Sequence[str]) -> bool:
        host = host.lower().rstrip(".")
        return any(host == n.lower() or (n.startswith(".") and host.endswith(n.lower())) for n in names)

    def _allowed_address(self, ip: IPAddress) -> bool:
        for entry in self.allowed:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue  # a host name, not an address
        return False

    def check_address(self, host: str, ip: IPAddress) -> None:
        """Raise ``RefusedAddress`` unless ``ip`` (an address of ``host``) is public or allowed."""
        why = not_public(ip)
        if why and not self._allowed_address(ip):
            raise RefusedAddress(f"{host} resolves to {ip} ({why})")

    async def target(self, url: str, *, timeout_s: float = 5.0) -> Target:
        """Check ``url`` now and choose the address to connect to.

        Raises ``RefusedAddress`` for a refused host or address, ``UnresolvedHost`` when the name does
        not resolve (within ``timeout_s``).
        """
        parsed = httpx.URL(url)
        host = parsed.host
        if self._named(host, self.allowed):
            addresses = await self._lookup(parsed, timeout_s)
            return Target(parsed, addresses[0])
        if self._named(host, self.own_hosts):
            raise RefusedAddress(f"{host} is one of the services' own hosts")
        addresses = await self._lookup(parsed, timeout_s)
        for address in addresses:
            self.check_address(host, ipaddress.ip_address(address))
        return Target(parsed, addresses[0])

    async def _lookup(self, url: httpx.URL, timeout_s: float) -> list[str]:
        try:
            return [str(ipaddress.ip_address(url.host))]  # an address literal needs no lookup
        except ValueError:
            pass
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            async with asyncio.timeout(timeout_s):
                addresses = await self.resolver(url.host, port)
        except (OSError, TimeoutError) as exc:
            raise UnresolvedHost(f"{url.host}: {exc or 'no answer'}") from exc
        if not addresses:
            raise UnresolvedHost(f"{url.host}: no address")
        # An address that comes with a zone (fe80::1%eth0) is link-local anyway; drop the zone to parse it.
        return [a.split("%", 1)[0] for a in addresses]
