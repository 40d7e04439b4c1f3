"""Headless Chromium for the UI test: Debian's ``chromium``, driven by ``playwright-core`` on the dev group's Node.

No browser is downloaded: playwright-core (npm, installed with ``--ignore-scripts`` and
``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD``) drives ``/usr/bin/chromium``, which ``scripts/install_browser.sh``
installs with apt-get. playwright-core lives in the cache folder, outside the repository, as NocoDB does.

    .venv/bin/python -m tests.ui.browser install   # quick when it is there
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.services import cache_dir, file_lock
from tests.services.nocodb import node_executable, npm_cli

PLAYWRIGHT_VERSION = "1.65.1"
CHROMIUM = Path("/usr/bin/chromium")
# No GPU, no sandbox (root in a container), and nothing that reaches out to the network on its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_TIMEOUT_S = 600


def install_dir() -> Path:
    return cache_dir() / "playwright-core" / PLAYWRIGHT_VERSION


def node_modules() -> Path:
    return install_dir() / "node_modules"


def is_installed() -> bool:
    package = node_modules() / "playwright-core" / "package.json"
    return package.is_file() and json.loads(package.read_text()).get("version") == PLAYWRIGHT_VERSION


def install() -> Path:
    """Install playwright-core into the cache (once; a lock keeps parallel sessions apart); return node_modules."""
    if is_installed():
        return node_modules()
    install_dir().parent.mkdir(parents=True, exist_ok=True)
    with file_lock(install_dir().parent / "install.lock"):
        if is_installed():
            return node_modules()
        staging = Path(tempfile.mkdtemp(prefix="install-", dir=install_dir().parent))
        (staging / "package.json").write_text(json.dumps({"name": "ui-test-driver", "private": True}))
        env = {
            **os.environ,
            "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            "npm_config_audit": "false",
        }
        done = subprocess.run(
            [
                str(node_executable()),
                str(npm_cli()),
                "install",
                "--ignore-scripts",
                f"playwright-core@{PLAYWRIGHT_VERSION}",
            ],
            cwd=staging,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(f"npm install playwright-core failed:\n{done.stderr[-3000:]}")
        shutil.rmtree(install_dir(), ignore_errors=True)
        staging.rename(install_dir())
    return node_modules()


def run_script(script: Path, args: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    """Run a Node script that ``require``s playwright-core, with the browser's path and flags in its environment."""
    env = {
        **os.environ,
        "NODE_PATH": str(install()),
        "CHROMIUM": str(CHROMIUM),
        "CHROMIUM_FLAGS": json.dumps(CHROMIUM_FLAGS),
    }
    return subprocess.run(
        [str(node_executable()), str(script), *args], env=env, capture_output=True, text=True, timeout=timeout_s
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m tests.ui.browser install")
    print(install())
