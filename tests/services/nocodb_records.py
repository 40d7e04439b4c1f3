"""Rows of test tables through NocoDB's data API: insert, update, delete and get records, at most
:data:`BATCH_SIZE` rows per request (the limit a stock NocoDB puts on xc-token requests).
"""

from __future__ import annotations

import requests

from tests.services.nocodb_client import _check, _headers
from tests.services.nocodb_config import NocoDBServer

# NocoDB rejects more than 100 records per data-API request made with an xc-token (HTTP 422
# ERR_MAX_PAYLOAD_LIMIT_EXCEEDED; NC_DATA_PAYLOAD_LIMIT changes it). The test server keeps that
# default so code under test meets the same limit as a stock NocoDB.
BATCH_SIZE = 100


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
