"""NocoDB v2 REST API: the tables users keep their rows in."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import requests
from pydantic import BaseModel, ValidationError

from talking_head_dagster.errors import (
    NocoDBConfigError,
    NocoDBGarbageError,
    NocoDBUnavailableError,
    RowDeletedError,
)

# NocoDB refuses data requests for more than 100 records made with an API token.
MAX_RECORDS_PER_REQUEST = 100
# Runs in flight register their NocoDB client here, so stages that do not take the resource (the
# composite) can still show their status in the row (see assets/stage.py).
_RUN_CLIENTS: dict[str, "NocoDBResource"] = {}
# Tables found without their title column, by (NocoDB URL, table id): later ticks of this process
# read them without it at once, instead of paying NocoDB's 404 first on every tick.
_TABLES_WITHOUT_TITLE: set[tuple[str, str]] = set()


class TableMapping(dg.Config):
    """A watched table and which of its columns hold the source URL, the script and the result."""

    id: str
    url_column: str = "url"
    content_column: str = "content"
    result_column: str = "chengpinurl"
    status_column: str | None = None
    error_column: str | None = None
    voice: str | None = None
    voice_column: str | None = None
    layout: str | None = None
    layout_column: str | None = None
    portrait: str | None = None
    # The column that names a row (NocoDB's default display column), for the runs' tags; optional.
    title_column: str | None = "Title"


class _Row(BaseModel, extra="allow"):
    Id: int


class _Page(BaseModel):
    """What a records page must look like; anything else is garbage (a proxy's error page, a cut body)."""

    list: list[_Row]
    pageInfo: dict[str, Any] = {}


class NocoDBResource(dg.ConfigurableResource):
    url: str | None = None
    api_token: str | None = None
    tables: list[TableMapping] = []
    page_size: int = 500
    timeout_s: float = 20.0
    status_timeout_s: float = 5.0

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.run:
            _RUN_CLIENTS[context.run.run_id] = self

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if context.run:
            _RUN_CLIENTS.pop(context.run.run_id, None)

    @staticmethod
    def for_run(run_id: str) -> "NocoDBResource | None":
        """The client of a run in flight in this process, if the run initialised one."""
        return _RUN_CLIENTS.get(run_id)

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
        """Rows with a URL and a script and no result yet (or a status of 'retry'), in Id order, after ``after_id``.

        The filter runs inside NocoDB, page by page, so a tick reads only candidate rows. An answer
        that is not a records page raises ``NocoDBGarbageError``.
        """
        wanted = f"({mapping.result_column},blank)"
        if mapping.status_column:
            wanted = f"({wanted}~or({mapping.status_column},eq,retry))"
        candidate = f"({mapping.url_column},notblank)~and({mapping.content_column},notblank)~and{wanted}"
        # Every cell the row's version or its lifecycle depends on (the sensor computes the version),
        # and its title for the run's tags.
        columns = [mapping.url_column, mapping.content_column, mapping.layout_column, mapping.voice_column]
        columns += [mapping.result_column, mapping.status_column]
        fields = ["Id", *dict.fromkeys(c for c in columns if c)]
        title = mapping.title_column if mapping.title_column and mapping.title_column not in fields else None
        if (self.url or "", mapping.id) in _TABLES_WITHOUT_TITLE:
            title = None
        served = 0
        while served < limit:
            page_size = min(self.page_size, limit - served)
            params = {"where": f"{candidate}~and(Id,gt,{after_id})", "sort": "Id", "limit": page_size}
            try:
                body = self._request(
                    "GET",
                    f"/api/v2/tables/{mapping.id}/records",
                    params={**params, "fields": ",".join(fields + ([title] if title else []))},
                )
            except NocoDBConfigError as exc:
                if not title or f"Field '{title}' not found" not in str(exc):
                    raise
                title = None  # a table without the title column: its rows are read without it
                _TABLES_WITHOUT_TITLE.add((self.url or "", mapping.id))
                continue
            try:
                page = _Page.model_validate(body)
            except ValidationError as exc:
                raise NocoDBGarbageError(
                    f"NocoDB answered something that is not a page of records for table {mapping.id}."
                ) from exc
            rows = [row.model_dump() for row in page.list]
            yield from rows
            served += len(rows)
            if len(rows) < page_size or page.pageInfo.get("isLastPage", False):
                return
            after_id = rows[-1]["Id"]

    def get_row(self, table_id: str, row_id: int) -> dict[str, Any]:
        row = self._request("GET", f"/api/v2/tables/{table_id}/records/{row_id}")
        if not isinstance(row, dict):
            raise NocoDBGarbageError(f"NocoDB answered something that is not a row for row {row_id} of {table_id}.")
        return row

    def update_row(self, table_id: str, row_id: int, fields: dict[str, Any]) -> None:
        self._request("PATCH", f"/api/v2/tables/{table_id}/records", json=[{"Id": row_id, **fields}])

    def status_fields(self, table_id: str, status: str, error: str | None = None) -> dict[str, str]:
        """The cells that show ``status`` (and ``error``) in a row of this table; empty without a status column."""
        mapping = self.table(table_id)
        fields = {mapping.status_column: status} if mapping.status_column else {}
        if mapping.error_column and error is not None:
            fields[mapping.error_column] = error
        return fields

    def set_status(self, table_id: str, row_id: int, status: str, error: str | None = None) -> bool:
        """Show ``status`` (and ``error``) in the row; False when the table has no status column.

        Quick (``status_timeout_s``): status is a courtesy to users, not worth holding a stage for.
        Raises ``RowDeletedError`` when the row is gone, and the usual errors otherwise.
        """
        fields = self.status_fields(table_id, status, error)
        if not fields:
            return False
        self._patch(table_id, [{"Id": row_id, **fields}])
        return True

    def set_statuses(self, table_id: str, rows: dict[int, dict[str, str]]) -> list[int]:
        """Write several rows' status cells, 100 rows a request; return the rows that could not be written.

        A request that fails is retried row by row, so one deleted row does not hold up the others.
        """
        failed: list[int] = []
        items = [{"Id": row_id, **fields} for row_id, fields in rows.items() if fields]
        for start in range(0, len(items), MAX_RECORDS_PER_REQUEST):
            batch = items[start : start + MAX_RECORDS_PER_REQUEST]
            try:
                self._patch(table_id, batch)
                continue
            except (NocoDBUnavailableError, NocoDBConfigError, RowDeletedError):
                pass
            for item in batch:
                try:
                    self._patch(table_id, [item])
                except (NocoDBUnavailableError, NocoDBConfigError, RowDeletedError):
                    failed.append(item["Id"])
        return failed

    def _patch(self, table_id: str, items: list[dict[str, Any]]) -> None:
        self._request("PATCH", f"/api/v2/tables/{table_id}/records", json=items, timeout=self.status_timeout_s)

    def columns(self, table_id: str) -> dict[str, str]:
        """The table's columns: title → NocoDB type (``uidt``)."""
        meta = self._request("GET", f"/api/v2/meta/tables/{table_id}")
        try:
            return {str(c["title"]): str(c.get("uidt", "")) for c in meta["columns"]}
        except (KeyError, TypeError) as exc:
            raise NocoDBGarbageError(f"NocoDB answered something that is not a table for {table_id}.") from exc

    def add_column(self, table_id: str, title: str, uidt: str) -> None:
        self._request(
            "POST", f"/api/v2/meta/tables/{table_id}/columns", json={"title": title, "column_name": title, "uidt": uidt}
        )

    def _request(self, method: str, path: str, timeout: float | None = None, **kwargs: Any) -> Any:
        """One API call; every failure becomes an error that says whose move it is.

        Unreachable, slow, 429 or 5xx: ``NocoDBUnavailableError`` (retry later). A row that is not
        there: ``RowDeletedError``. A bad token, an unknown table or column, or another 4xx:
        ``NocoDBConfigError`` (the operator's). A body that is not JSON: ``NocoDBGarbageError``.
        """
        if not self.configured:
            raise NocoDBConfigError("NocoDB is not configured: set TALKING_HEAD_NOCODB__URL and __API_TOKEN.")
        try:
            response = requests.request(
                method,
                self.url.rstrip("/") + path,
                headers={"xc-token": self.api_token},
                timeout=timeout or self.timeout_s,
                **kwargs,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise NocoDBUnavailableError(f"NocoDB at {self.url} is unreachable: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            raise NocoDBConfigError(f"NocoDB refused the API token ({response.status_code}): check it.")
        code = _error_code(response)
        if response.status_code == 404 and code == "ERR_RECORD_NOT_FOUND":
            raise RowDeletedError("The row was deleted from the table while it was being rendered.")
        if response.status_code == 404 and code == "ERR_TABLE_NOT_FOUND":
            raise NocoDBConfigError(f"NocoDB has no {path.removeprefix('/api/v2/')}: check the table id.")
        if response.status_code == 429 or response.status_code >= 500:
            raise NocoDBUnavailableError(f"NocoDB answered {response.status_code} for {method} {path}")
        if response.status_code >= 400:
            hint = " (a configured column is missing: `talking-head setup` adds the status and error columns)"
            raise NocoDBConfigError(
                f"NocoDB answered {response.status_code} for {method} {path}: {response.text[:300]}"
                + (hint if "not found" in response.text else "")
            )
        try:
            return response.json()
        except ValueError as exc:
            raise NocoDBGarbageError(f"NocoDB returned a non-JSON answer for {method} {path}") from exc


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
