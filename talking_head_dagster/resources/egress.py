"""Where the downloader may connect: public internet addresses, and the hosts an allowlist names.

A source URL comes from a user's row, so it can point anywhere: at this machine (127.0.0.1, ::1),
the private network (10.0.0.0/8, 192.168.0.0/16, fd00::/8 ...), link-local addresses and the cloud
metadata services on them (169.254.169.254), or reserved ranges. Fetching those would let a row
read internal services (SSRF). Two checks keep the downloader out:

1. ``EgressPolicy.check_url``: every URL we request ourselves (the source URL and each redirect
   hop) must be http(s), and every address its host resolves to must be public, or allowlisted;
2. ``EgressPolicy.guard``: while a download runs, a Python audit hook refuses every
   ``socket.connect`` the downloading thread makes to any other address, and every subprocess it
   starts with a network URL among its arguments. That covers what yt-dlp fetches on its own
   (extractor API calls, fragments, its own redirects, FFmpeg as a downloader) and a DNS answer
   that changes between the check and the connection (DNS rebinding).

An allowlist entry is ``host`` (any port) or ``host:port`` (``[v6 address]:port`` for IPv6). It
matches the addresses the host resolves to, so ``127.0.0.1:8000`` opens that one socket address
and nothing else on the machine.
"""

import errno
import ipaddress
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from talking_head_dagster.errors import ForbiddenHostError, InvalidURLError, SourceNotFoundError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services: AWS/GCP/Azure/OpenStack (link-local), Alibaba (shared address space),
# AWS over IPv6, and Azure's platform endpoint (a public address that only answers inside Azure).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254", "168.63.129.16")
)
_NETWORK_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def address_problem(ip: IPAddress) -> str | None:
    """Why the downloader must not connect to ``ip``, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata service"
    checks = (
        (ip.is_unspecified, "the unspecified address (this machine)"),
        (ip.is_loopback, "this machine (loopback)"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_private, "a private network"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "a non-public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


@dataclass(frozen=True)
class AllowEntry:
    host: str
    port: int | None

    @classmethod
    def parse(cls, entry: str) -> "AllowEntry":
        parsed = urlsplit(f"//{entry.strip()}")
        try:
            port = parsed.port
        except ValueError as exc:
            raise ValueError(f"Invalid allowlist entry {entry!r}: the port is not a number.") from exc
        if not parsed.hostname or parsed.path or parsed.username:
            raise ValueError(f"Invalid allowlist entry {entry!r}: write host or host:port.")
        return cls(parsed.hostname.lower(), port)

    def addresses(self) -> set[IPAddress]:
        return _resolve(self.host, self.port or 80)

    def matches(self, ip: IPAddress, port: int) -> bool:
        return (self.port is None or self.port == port) and ip in self.addresses()


@dataclass
class _GuardState:
    policy: "EgressPolicy"
    deadline: float | None
    refusals: list[str] = field(default_factory=list)


_local = threading.local()
_hook_lock = threading.Lock()
_hook_installed = False


class EgressPolicy:
    def __init__(self, allowed: list[str] | tuple[str, ...] = ()) -> None:
        self.allowed = [AllowEntry.parse(entry) for entry in allowed]

    def check_url(self, url: str) -> None:
        """Refuse a URL that is not http(s), or whose host resolves to an address we must not reach."""
        if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
            raise InvalidURLError(f"The source URL contains spaces or control characters: {url[:120]!r}.")
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InvalidURLError(f"The source URL must start with http:// or https://, got {url[:120]!r}.")
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError as exc:
            raise InvalidURLError(f"The source URL has an invalid port: {url[:120]!r}.") from exc
        try:
            addresses = _resolve(parts.hostname, port)
        except socket.gaierror as exc:
            raise SourceNotFoundError(
                f"The source URL's host {parts.hostname!r} does not exist ({url[:120]})."
            ) from exc
        for ip in sorted(addresses, key=str):
            problem = self.refusal(ip, port)
            if problem:
                raise ForbiddenHostError(
                    f"The source URL's host {parts.hostname!r} resolves to {problem} ({ip}); "
                    f"the downloader only fetches from public addresses."
                )

    def refusal(self, ip: IPAddress, port: int) -> str | None:
        """Why connecting to ``ip:port`` is refused, or None when it is public or allowlisted."""
        problem = address_problem(ip)
        if problem and any(entry.matches(ip, port) for entry in self.allowed):
            return None
        return problem

    @contextmanager
    def guard(self, timeout_s: float | None = None) -> Iterator["_GuardState"]:
        """Refuse this thread's connections to forbidden addresses (and past the deadline) inside the block.

        A refused ``connect`` raises ``PermissionError`` (an ``OSError``, so libraries clean up as for
        any failed connection); the reasons are kept in the yielded state for the caller's message.
        """
        _install_hook()
        if getattr(_local, "state", None) is not None:
            raise RuntimeError("egress guards do not nest")
        deadline = time.monotonic() + timeout_s if timeout_s else None
        _local.state = state = _GuardState(self, deadline)
        try:
            yield state
        finally:
            _local.state = None

    def _check_connect(self, state: _GuardState, address: object) -> None:
        if state.deadline is not None and time.monotonic() > state.deadline:
            _refuse(state, "the time limit is over")
        if not (isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], str)):
            _refuse(state, f"not an internet address ({address!r})")
        host, port = address[0], int(address[1])
        try:
            addresses = _resolve(host, port)
        except socket.gaierror:
            return  # the connection fails on its own
        for ip in addresses:
            problem = self.refusal(ip, port)
            if problem:
                _refuse(state, f"{host} port {port} is {problem}")


def _refuse(state: _GuardState, reason: str) -> None:
    state.refusals.append(reason)
    raise PermissionError(errno.EACCES, f"connection refused by the download guard: {reason}")


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        state = getattr(_local, "state", None)
        if state is not None:
            state.policy._check_connect(state, args[1])
    elif event == "subprocess.Popen":
        state = getattr(_local, "state", None)
        if state is not None:
            argv = args[1] if isinstance(args[1], list | tuple) else [args[1]]
            urls = [str(a) for a in argv if _NETWORK_URL.match(str(a)) and not str(a).startswith("file:")]
            if urls:
                _refuse(state, f"a program was asked to fetch {urls[0][:120]} itself")


def _install_hook() -> None:
    """Audit hooks cannot be removed: install one, once per process; it acts only inside ``guard``."""
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True


def _resolve(host: str, port: int) -> set[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
