"""Address-safe HTTP fetching for evidence capture (issue 6).

``Fetcher.fetch(url)`` fetches only public addresses:

- scheme http or https only; no user:password in the URL;
- the host is resolved (``resolve_host``) and EVERY address it resolves to must be
  public: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10),
  CGNAT (100.64/10), multicast, reserved, unspecified, documentation / benchmarking
  ranges and cloud-metadata addresses are refused, IPv4 and IPv6 alike, including
  IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96), 6to4 and Teredo embeddings;
- the connection goes to the address that was checked (pinned: the URL's host is
  replaced by the IP, the Host header and TLS SNI / certificate name keep the host name),
  so a DNS answer cannot change between the check and the connection;
- redirects are followed by hand (at most ``max_redirects``), each hop checked again;
- the body is streamed and refused beyond ``max_bytes``; connect / read timeouts and a
  total deadline bound the time.

Errors: ``UnsafeURLError`` (the address or URL is not allowed) and ``FetchError`` (network
failure, timeout, size limit, too many redirects), both with a one-line reason.

``allow_private`` exists for tests against a local server ONLY: ``True`` allows every
address, a collection of IP strings allows exactly those (e.g. ``{"127.0.0.1"}``).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from patroli import __version__

__all__ = [
    "DEFAULT_MAX_BYTES",
    "METADATA_ADDRESSES",
    "FetchError",
    "FetchResult",
    "Fetcher",
    "HostNotFoundError",
    "UnsafeURLError",
    "check_address",
    "resolve_host",
]

#: Default body size limit: 5 MB.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
USER_AGENT = f"patroli/{__version__} (evidence capture)"

#: Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba, Oracle).
METADATA_ADDRESSES: frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address] = frozenset(
    ipaddress.ip_address(a) for a in (
        "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200",
        "192.0.0.192",
    ))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REDIRECTS = (301, 302, 303, 307, 308)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: getaddrinfo errors meaning "no such host" (NXDOMAIN, or a name without addresses)
_NO_SUCH_HOST = frozenset(e for e in (getattr(socket, "EAI_NONAME", None),
                                      getattr(socket, "EAI_NODATA", None)) if e is not None)


class FetchError(Exception):
    """A fetch failed: network error, timeout, size limit, bad redirect."""


class UnsafeURLError(FetchError):
    """The URL or the address it resolves to is not allowed (not public, bad scheme)."""


class HostNotFoundError(FetchError):
    """The host does not exist in DNS (the resolver answered: no such name, no address).

    Raised instead of a plain ``FetchError`` only for ``EAI_NONAME`` / ``EAI_NODATA``; a
    resolver that fails or times out (``EAI_AGAIN``, no network) is a plain ``FetchError``:
    it says nothing about the site."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6 strings, DNS order).

    Raises HostNotFoundError when DNS says the name does not exist, FetchError when it
    cannot be resolved otherwise (resolver failure, timeout, bad name). Tests may
    monkeypatch this function.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in _NO_SUCH_HOST:
            raise HostNotFoundError(f"host not found {host!r}: {exc}") from exc
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from exc
    except (UnicodeError, OSError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from exc
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        if addr not in out:
            out.append(addr)
    return out


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def check_address(address: str | IPAddress) -> None:
    """Raise UnsafeURLError unless ``address`` is a public unicast address.

    The reason names the range: loopback, private, link-local, CGNAT, multicast,
    reserved, unspecified, cloud metadata or not globally routable. An IPv6 address that
    embeds an IPv4 address (mapped, NAT64, 6to4, Teredo) is judged by that address too.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError as exc:
        raise UnsafeURLError(f"not an IP address: {address!r}") from exc
    checks: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        v4 = _embedded_v4(ip)
        if v4 is not None:
            checks.append(v4)
    for a in checks:
        reason = None
        if a in METADATA_ADDRESSES:
            reason = "cloud metadata"
        elif a.is_unspecified:
            reason = "unspecified"
        elif a.is_loopback:
            reason = "loopback"
        elif a.is_link_local:
            reason = "link-local"
        elif a.is_multicast:
            reason = "multicast"
        elif isinstance(a, ipaddress.IPv4Address) and a in _CGNAT:
            reason = "carrier-grade NAT (CGNAT)"
        elif a.is_private:
            reason = "private"
        elif a.is_reserved:
            reason = "reserved"
        elif not a.is_global:
            reason = "not globally routable"
        if reason:
            raise UnsafeURLError(
                f"alamat tidak publik / address not public: {ip} is {reason}")


@dataclass(slots=True)
class FetchResult:
    """One fetched response after redirects.

    url: the URL asked for; final_url: the URL that answered; status / reason: its HTTP
    status; http_version e.g. "HTTP/1.1"; request_headers / response_headers: (name,
    value) pairs as sent / received; body: the raw body bytes as transferred (content
    encoding kept, chunking removed); peer_ip: the address connected to; fetched_at: UTC;
    redirects: [(url, status)] of the hops before the final one.
    """

    url: str
    final_url: str
    status: int
    reason: str
    http_version: str
    request_headers: list[tuple[str, str]]
    response_headers: list[tuple[str, str]]
    body: bytes
    peer_ip: str
    fetched_at: datetime
    redirects: list[tuple[str, int]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """The first response header ``name`` (case-insensitive), or None."""
        low = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == low), None)


class Fetcher:
    """Fetch public http(s) URLs safely (see the module docstring).

    max_bytes: body limit in bytes; connect_timeout / read_timeout / total_timeout:
    seconds; max_redirects: hops followed; allow_private: TEST-ONLY override (True, or a
    collection of IP strings allowed despite not being public).
    """

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES, connect_timeout: float = 5.0,
                 read_timeout: float = 15.0, total_timeout: float = 30.0,
                 max_redirects: int = 5, user_agent: str = USER_AGENT,
                 allow_private: bool | Collection[str] = False) -> None:
        self.max_bytes = max_bytes
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        if isinstance(allow_private, bool):
            self._allow_all = allow_private
            self._allowed: frozenset[IPAddress] = frozenset()
        else:
            self._allow_all = False
            self._allowed = frozenset(ipaddress.ip_address(a) for a in allow_private)

    def _check(self, address: str) -> None:
        if self._allow_all or ipaddress.ip_address(address) in self._allowed:
            return
        check_address(address)

    def _target(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, pinned ip) of ``url``, after every address check."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise UnsafeURLError(f"only http and https URLs may be fetched, not {url!r}")
        if parts.username or parts.password:
            raise UnsafeURLError("URLs with a user name or password are not fetched")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise UnsafeURLError(f"URL without a host: {url!r}")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise UnsafeURLError(f"bad port in {url!r}") from exc
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            addresses = resolve_host(host, port)
        if not addresses:
            raise FetchError(f"host {host!r} has no address")
        for a in addresses:  # every answer must be public: no DNS round-robin tricks
            self._check(a)
        return scheme, host, port, addresses[0]

    def fetch(self, url: str) -> FetchResult:
        """GET ``url`` following at most ``max_redirects`` redirects, each hop checked.

        Raises UnsafeURLError or FetchError (see the module docstring).
        """
        deadline = time.monotonic() + self.total_timeout
        redirects: list[tuple[str, int]] = []
        current = url.strip()
        timeout = httpx.Timeout(connect=self.connect_timeout, read=self.read_timeout,
                                write=self.read_timeout, pool=self.connect_timeout)
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            while True:
                result = self._fetch_one(client, current, deadline)
                if result.status in _REDIRECTS and result.header("location"):
                    if len(redirects) >= self.max_redirects:
                        raise FetchError(f"too many redirects (more than {self.max_redirects})"
                                         f" from {url}")
                    redirects.append((current, result.status))
                    current = urljoin(current, result.header("location") or "")
                    continue
                result.url = url
                result.redirects = redirects
                return result

    def _fetch_one(self, client: httpx.Client, url: str, deadline: float) -> FetchResult:
        scheme, host, port, ip = self._target(url)
        parts = urlsplit(url)
        ip_host = f"[{ip}]" if ":" in ip else ip
        default_port = 443 if scheme == "https" else 80
        netloc = ip_host if port == default_port else f"{ip_host}:{port}"
        pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
        host_header = host if port == default_port else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        headers = [("Host", host_header), ("User-Agent", self.user_agent),
                   ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
                   ("Accept-Encoding", "identity"), ("Connection", "close")]
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        fetched_at = datetime.now(UTC)
        try:
            req = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            resp = client.send(req, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_raw():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"response larger than {self.max_bytes} bytes: {url}")
                    if time.monotonic() > deadline:
                        raise FetchError(f"time limit of {self.total_timeout:g} s exceeded: {url}")
                    chunks.append(chunk)
                resp_headers = [(k.decode("latin-1"), v.decode("latin-1"))
                                for k, v in resp.headers.raw]
                return FetchResult(
                    url=url, final_url=url, status=resp.status_code,
                    reason=resp.reason_phrase or "", http_version=resp.http_version,
                    request_headers=headers, response_headers=resp_headers,
                    body=b"".join(chunks), peer_ip=ip, fetched_at=fetched_at)
            finally:
                resp.close()
        except httpx.TimeoutException as exc:
            raise FetchError(f"timeout fetching {url}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc
