"""``talking-head setup``: make each configured NocoDB table ready for the row lifecycle.

The status and error columns a table mapping names are created when missing (a single line of
text and a long text); the URL, script and result columns must exist already (they hold the
user's data, so we never invent them).
"""

from dataclasses import dataclass, field

from talking_head_dagster.resources.nocodb import NocoDBResource

LIFECYCLE_COLUMN_TYPES = {"status_column": "SingleLineText", "error_column": "LongText"}
DATA_COLUMNS = ("url_column", "content_column", "result_column")


@dataclass
class TableReport:
    table: str
    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # data columns the user must add
    unconfigured: list[str] = field(default_factory=list)  # lifecycle columns no setting names

    @property
    def ok(self) -> bool:
        return not self.missing


def set_up_tables(nocodb: NocoDBResource) -> list[TableReport]:
    """Check every configured table; create its missing status and error columns.

    Steps: 1. read the table's columns; 2. report the data columns that are missing; 3. create
    the configured lifecycle columns that are missing.
    """
    reports = []
    for mapping in nocodb.tables:
        report = TableReport(mapping.id)
        # 1. What the table has.
        columns = nocodb.columns(mapping.id)
        # 2. The user's data.
        for setting in DATA_COLUMNS:
            name = getattr(mapping, setting)
            (report.present if name in columns else report.missing).append(name)
        # 3. The lifecycle columns.
        for setting, uidt in LIFECYCLE_COLUMN_TYPES.items():
            name = getattr(mapping, setting)
            if not name:
                report.unconfigured.append(setting)
            elif name in columns:
                report.present.append(name)
            else:
                nocodb.add_column(mapping.id, name, uidt)
                report.created.append(name)
        reports.append(report)
    return reports


def describe(report: TableReport) -> str:
    lines = [f"table {report.table}:"]
    if report.created:
        lines.append(f"  created columns: {', '.join(report.created)}")
    if report.present:
        lines.append(f"  present: {', '.join(report.present)}")
    if report.missing:
        lines.append(f"  MISSING (add them in NocoDB, or map other columns): {', '.join(report.missing)}")
    if report.unconfigured:
        names = ", ".join(report.unconfigured)
        lines.append(f"  not configured: {names} (set them in TALKING_HEAD_NOCODB__TABLES to show each row's status)")
    return "\n".join(lines)
