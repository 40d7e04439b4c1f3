"""Credentials for the NocoDB API and the request helpers the API modules share: sign in (or sign
up on a fresh database) as the fixed admin user, create an API token once and cache it in
``credentials.json``; ``ensure_running()`` starts NocoDB and returns them.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.services import file_lock
from tests.services.nocodb_config import NocoDBServer, NocoDBServiceError, base_url, credentials_file, state_dir
from tests.services.nocodb_process import start

ADMIN_EMAIL = "admin@talking-head.example.com"
ADMIN_PASSWORD = "TalkingHead-Test-Passw0rd!"
TOKEN_DESCRIPTION = "talking-head-dagster tests"


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
