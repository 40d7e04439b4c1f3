"""Where the test NocoDB lives, and the types the other ``nocodb_*`` modules share: the pinned
version (from ``nocodb/package.json``), the port, the install and per-port state directories under
the cache and the files in them, ``NocoDBServer`` and ``NocoDBServiceError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tests.services import HOST, cache_dir, port_from_env

PORT_ENV = "TALKING_HEAD_TEST_NOCODB_PORT"
DEFAULT_PORT = 18080

SOURCE_DIR = Path(__file__).resolve().parent / "nocodb"


@dataclass(frozen=True)
class NocoDBServer:
    base_url: str  # "http://127.0.0.1:18080"
    api_token: str  # an xc-token API token
    auth_token: str  # xc-auth token of the admin user


class NocoDBServiceError(RuntimeError):
    pass


def nocodb_version() -> str:
    package = json.loads((SOURCE_DIR / "package.json").read_text())
    return str(package["dependencies"]["nocodb"])


def root_dir() -> Path:
    path = cache_dir() / "nocodb"
    path.mkdir(parents=True, exist_ok=True)
    return path


def install_dir() -> Path:
    return root_dir() / nocodb_version()


def port() -> int:
    return port_from_env(PORT_ENV, DEFAULT_PORT)


def state_dir() -> Path:
    """Database, pid file, log and cached credentials of the instance on :func:`port`."""
    path = root_dir() / f"state-{port()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def base_url() -> str:
    return f"http://{HOST}:{port()}"


def pid_file() -> Path:
    return state_dir() / "nocodb.pid"


def log_file() -> Path:
    return state_dir() / "nocodb.log"


def credentials_file() -> Path:
    return state_dir() / "credentials.json"
