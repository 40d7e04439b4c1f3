"""Test tables through NocoDB's meta API: create and delete them in the ``talking-head-tests``
base, remembering the ones this process created so the session fixture can delete those left over.
"""

from __future__ import annotations

from typing import Any

import requests

from tests.services.nocodb_client import _check, _headers
from tests.services.nocodb_config import NocoDBServer

BASE_TITLE = "talking-head-tests"


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
