"""NocoDB v2 REST API: the tables users keep their rows in."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import requests

from talking_head_dagster.errors import PermanentInputError, TransientError


class TableMapping(dg.Config):
    """A watched table and which of its columns hold the source URL, the script and the result."""

    id: str
    url_column: str = "url"
    content_column: str = "content"
    result_column: str = "chengpinurl"
    status_column: str | None = None
    error_column: str | None = None
    voice: str | None = None


class NocoDBConfigError(Exception):
    """NocoDB rejected our credentials or does not know the table: an operator must fix the setup."""


class NocoDBResource(dg.ConfigurableResource):
    url: str | None = None
    api_token: str | None = None
    tables: list[TableMapping] = []
    page_size: int = 500
    timeout_s: float = 20.0

    @property
    def configured(self) -> bool:
        return bool(self.url and self.api_token)

    def table(self, table_id: str) -> TableMapping:
        for mapping in self.tables:
            if mapping.id == table_id:
                return mapping
        # A table the sensor does not watch can still be rendered with the default columns.
        return TableMapping(id=table_id)

    def pending_rows(self, mapping: TableMapping, after_id: int, limit: int) -> Iterator[dict[str, Any]]:
        """Rows with a URL and a script and no result yet, in Id order, after ``after_id``.

        The filter runs inside NocoDB, page by page, so a tick reads only candidate rows.
        """
        candidate = (
            f"({mapping.url_column},notblank)~and({mapping.content_column},notblank)~and({mapping.result_column},blank)"
        )
        fields = ",".join(["Id", mapping.url_column, mapping.content_column])
        served = 0
        while served < limit:
            page_size = min(self.page_size, limit - served)
            body = self._request(
                "GET",
                f"/api/v2/tables/{mapping.id}/records",
                params={
                    "where": f"{candidate}~and(Id,gt,{after_id})",
                    "sort": "Id",
                    "limit": page_size,
                    "fields": fields,
                },
            )
            rows = body.get("list", [])
            yield from rows
            served += len(rows)
            if len(rows) < page_size or body.get("pageInfo", {}).get("isLastPage", False):
                return
            after_id = rows[-1]["Id"]

    def get_row(self, table_id: str, row_id: int) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/tables/{table_id}/records/{row_id}", not_found_ok=False)

    def update_row(self, table_id: str, row_id: int, fields: dict[str, Any]) -> None:
        self._request("PATCH", f"/api/v2/tables/{table_id}/records", json=[{"Id": row_id, **fields}])

    def _request(self, method: str, path: str, not_found_ok: bool = False, **kwargs: Any) -> Any:
        if not self.configured:
            raise NocoDBConfigError("NocoDB is not configured: set TALKING_HEAD_NOCODB__URL and __API_TOKEN.")
        try:
            response = requests.request(
                method,
                self.url.rstrip("/") + path,
                headers={"xc-token": self.api_token},
                timeout=self.timeout_s,
                **kwargs,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"NocoDB at {self.url} is unreachable: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            raise NocoDBConfigError(f"NocoDB refused the API token ({response.status_code}): check it.")
        if response.status_code == 404:
            raise PermanentInputError(f"NocoDB has no {path.removeprefix('/api/v2/')} (deleted?)")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"NocoDB answered {response.status_code} for {method} {path}")
        if response.status_code >= 400:
            raise NocoDBConfigError(
                f"NocoDB answered {response.status_code} for {method} {path}: {response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise TransientError(f"NocoDB returned a non-JSON answer for {method} {path}") from exc
