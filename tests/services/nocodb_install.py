"""Installing NocoDB into ``<cache>/nocodb/<version>/`` once per version: ``install()`` runs
``npm install`` and rebuilds the native modules with the wheel's Node (log: ``install.log``); a
marker keyed by NocoDB version, Node version and package.json hash makes later calls return at
once, and ``is_installed()`` checks it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.services import file_lock, log_tail
from tests.services.nocodb_config import SOURCE_DIR, NocoDBServiceError, install_dir, nocodb_version, root_dir
from tests.services.nocodb_node import _npm_env, _write_shims, node_executable, node_version, npm_cli

# Native modules that `npm install --ignore-scripts` leaves unbuilt; rebuilt for the wheel's Node.
NATIVE_MODULES = ("sqlite3", "lz4", "msgpackr-extract", "sharp")
INSTALL_TIMEOUT = 30 * 60


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
