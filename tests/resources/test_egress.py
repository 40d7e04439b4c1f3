"""The downloader's egress policy: which addresses a row's URL may make us connect to."""

import ipaddress
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from talking_head_dagster.errors import ForbiddenHostError, InvalidURLError, SourceNotFoundError
from talking_head_dagster.resources.egress import AllowEntry, EgressPolicy, address_problem


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "non-public"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),  # reserved, which Python also counts as private
    ],
)
def test_non_public_addresses_are_refused(address: str, problem: str) -> None:
    assert problem in address_problem(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("ftp://127.0.0.1/clip.mp4", InvalidURLError, "must start with http:// or https://"),
        ("file:///etc/passwd", InvalidURLError, "must start with http:// or https://"),
        ("javascript:alert(1)", InvalidURLError, "must start with http:// or https://"),
        ("http:///clip.mp4", InvalidURLError, "must start with http:// or https://"),
        ("http://93.184.216.34/a b.mp4", InvalidURLError, "spaces or control characters"),
        ("http://93.184.216.34:99999/a.mp4", InvalidURLError, "invalid port"),
        ("http://127.0.0.1/clip.mp4", ForbiddenHostError, "loopback"),
        ("http://2130706433/clip.mp4", ForbiddenHostError, "loopback"),  # 127.0.0.1 spelt as a number
        ("http://0x7f.1/clip.mp4", ForbiddenHostError, "loopback"),
        ("http://[::1]/clip.mp4", ForbiddenHostError, "loopback"),
        ("http://[::ffff:7f00:1]/clip.mp4", ForbiddenHostError, "loopback"),
        ("http://user@10.0.0.1/clip.mp4", ForbiddenHostError, "private"),
        ("http://169.254.169.254/latest/meta-data/", ForbiddenHostError, "metadata"),
        ("http://no-such-host.invalid/clip.mp4", SourceNotFoundError, "does not exist"),
    ],
)
def test_check_url_refuses_hostile_urls(url: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        EgressPolicy().check_url(url)


@pytest.mark.parametrize("address", ["93.184.216.34", "[2606:2800:220:1:248:1893:25c8:1946]"])
def test_check_url_accepts_a_public_address(address: str) -> None:
    policy = EgressPolicy()
    assert policy.refusal(ipaddress.ip_address(address.strip("[]")), 443) is None
    assert policy.check_url(f"https://{address}/video.mp4") is None  # raises for any refused address


def test_allowlist_opens_exactly_the_named_host_and_port() -> None:
    policy = EgressPolicy(["127.0.0.1:8123"])
    policy.check_url("http://127.0.0.1:8123/clip.mp4")
    policy.check_url("http://2130706433:8123/clip.mp4")  # the same socket address, spelt otherwise
    for url in (
        "http://127.0.0.1:8124/clip.mp4",
        "http://127.0.0.1/clip.mp4",
        "http://127.0.0.2:8123/clip.mp4",
        "http://[::1]:8123/clip.mp4",
        "http://10.0.0.1:8123/clip.mp4",
        "http://169.254.169.254:8123/",
    ):
        with pytest.raises(ForbiddenHostError):
            policy.check_url(url)


def test_allowlist_entries_parse() -> None:
    assert AllowEntry.parse("127.0.0.1:8000") == AllowEntry("127.0.0.1", 8000)
    assert AllowEntry.parse("Media.Local") == AllowEntry("media.local", None)
    assert AllowEntry.parse("[::1]:9000") == AllowEntry("::1", 9000)
    for bad in ("127.0.0.1:http", "http://x/y", ""):
        with pytest.raises(ValueError):
            AllowEntry.parse(bad)


def test_guard_refuses_connections_of_its_thread_only(listener: int) -> None:
    policy = EgressPolicy([f"127.0.0.1:{listener + 1}"])
    with policy.guard() as guard:
        with pytest.raises(PermissionError, match="loopback"), socket.create_connection(("127.0.0.1", listener), 2):
            pass
        assert "loopback" in guard.refusals[0]
        # Another thread (say, Dagster's) is not affected.
        outcome: list[object] = []

        def connect() -> None:
            with socket.create_connection(("127.0.0.1", listener), 2):
                outcome.append("connected")

        thread = threading.Thread(target=connect)
        thread.start()
        thread.join(5)
        assert outcome == ["connected"]
    # Outside the block the guard is gone.
    with socket.create_connection(("127.0.0.1", listener), 2):
        pass


def test_guard_lets_the_allowlisted_socket_address_through(listener: int) -> None:
    with EgressPolicy([f"127.0.0.1:{listener}"]).guard() as guard, socket.create_connection(("127.0.0.1", listener), 2):
        pass
    assert guard.refusals == []


def test_guard_refuses_a_hostname_that_resolves_to_loopback(listener: int) -> None:
    with EgressPolicy().guard(), pytest.raises(PermissionError):
        socket.create_connection(("localhost", listener), 2)


def test_guard_refuses_programs_asked_to_fetch_urls() -> None:
    with EgressPolicy().guard() as guard:
        with pytest.raises(PermissionError, match="fetch"):
            subprocess.run([sys.executable, "-c", "pass", "http://169.254.169.254/"], check=True)
        subprocess.run([sys.executable, "-c", "pass", "file:/tmp/x.mp4"], check=True)
    assert len(guard.refusals) == 1


def test_guard_enforces_the_time_limit(listener: int) -> None:
    policy = EgressPolicy([f"127.0.0.1:{listener}"])
    with policy.guard(timeout_s=1e-9) as guard, pytest.raises(PermissionError, match="time limit"):
        socket.create_connection(("127.0.0.1", listener), 2)
    assert guard.refusals == ["the time limit is over"]
