"""What the dashboard does to every request before a route sees it: who the client really is
(behind the proxies the operator trusts) and the headers that keep browsers from misusing
its pages. Both wrap jobdeck's own app, so a host that mounts it keeps its own rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobdeck.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# No inline script anywhere: pages load their JavaScript from static/, htmx is told not to
# inject its indicator <style> or evaluate attributes (see base.html's htmx-config).
CONTENT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def parse_networks(entries: Iterable[str], setting: str = "trusted_proxies") -> tuple[Network, ...]:
    """``127.0.0.1``, ``10.0.0.0/8`` or ``::1`` into networks; a bad entry names itself."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"{setting}: {entry!r} is not an IP address or network such as 10.0.0.0/8"
            ) from None
    return tuple(networks)


def security_headers(frame_ancestors: Sequence[str]) -> list[tuple[str, str]]:
    """The headers every dashboard response carries; ``frame_ancestors`` lets hosts embed it."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    headers = [
        ("content-security-policy", f"{CONTENT_POLICY}; frame-ancestors {ancestors}"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if not frame_ancestors:
        # For browsers that predate frame-ancestors; it cannot express a list, so only DENY.
        headers.append(("x-frame-options", "DENY"))
    return headers


class DashboardDefences:
    """ASGI middleware: resolve forwarded headers from trusted proxies, add security headers."""

    def __init__(
        self, app: ASGIApp, *, trusted_proxies: Sequence[str], frame_ancestors: Sequence[str]
    ) -> None:
        self.app = app
        self.proxies = parse_networks(trusted_proxies)
        self.headers = security_headers(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.proxies:
            scope = behind_proxies(scope, self.proxies)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def behind_proxies(scope: Scope, proxies: Sequence[Network]) -> Scope:
    """The scope as the client sent it: its address and scheme from X-Forwarded-For/-Proto,
    believed only as far back as the chain of hops runs through trusted proxies."""
    client = scope.get("client")
    if not client or not _trusted(client[0], proxies):
        return scope
    headers = Headers(scope=scope)
    hops = _listed(headers.getlist("x-forwarded-for"))
    protos = _listed(headers.getlist("x-forwarded-proto"))
    address, crossed = client[0], 0
    while hops and _trusted(address, proxies):
        candidate = hops.pop()
        if not _is_address(candidate):
            break
        address, crossed = candidate, crossed + 1
    changes: dict[str, object] = {}
    if crossed:
        changes["client"] = (address, 0)
    if protos:
        scheme = protos[-crossed] if 0 < crossed <= len(protos) else protos[-1]
        if scheme.lower() in ("http", "https"):
            changes["scheme"] = scheme.lower()
    return {**scope, **changes} if changes else scope


def _listed(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL (an Origin or Referer value), or None if it has none;
    default ports are dropped so ``https://a:443`` and ``https://a`` compare equal."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return None
    return origin(parts.scheme, parts.netloc)


def origin(scheme: str, netloc: str) -> str:
    scheme, host = scheme.lower(), netloc.lower().rpartition("@")[2]
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if name and port.isdecimal() and int(port) == DEFAULT_PORTS.get(scheme):
        host = name
    return f"{scheme}://{host}"
