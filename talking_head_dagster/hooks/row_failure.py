"""Write a failed run's reason into the row, so users see it where they work: in their table."""

import dagster as dg
from dagster._core.errors import DagsterAssetCheckFailedError

from talking_head_dagster.assets.stage import EarlierStageFailedError
from talking_head_dagster.display import shorten
from talking_head_dagster.errors import RowDeletedError, TalkingHeadError
from talking_head_dagster.failures import failed_checks
from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.row_status import RowStatus
from talking_head_dagster.run_tags import ERROR_CHARS, ERROR_TAG, ROW_ERROR_TAG

MAX_MESSAGE = 500


@dg.failure_hook(required_resource_keys={"nocodb"})
def row_failure(context: dg.HookContext) -> None:
    """Best effort: a NocoDB hiccup here is logged, never raised over the stage's own error.

    Only the first failure of a run writes: the stages after it stop with ``EarlierStageFailedError``
    and have nothing to add; a deleted row has no cells left to write. The reason also goes on the
    run as tags, so the Runs list says why without opening the run, and the sensor can write it into
    the row if NocoDB is down now (``row_plan.decide``'s lost final status).
    """
    if _caused_by(context.op_exception, (EarlierStageFailedError, RowDeletedError)):
        return
    reason = failure_reason(context.op_exception)
    if _caused_by(context.op_exception, (DagsterAssetCheckFailedError,)):
        reason = failed_checks(context.instance, context.run_id) or reason
    message = f"{context.op.name}: {reason}"
    try:
        tags = {ERROR_TAG: shorten(message, ERROR_CHARS), ROW_ERROR_TAG: message[:MAX_MESSAGE]}
        context.instance.add_run_tags(context.run_id, tags)
    except Exception as exc:  # the tag is a courtesy too
        context.log.warning(f"could not tag the run with its failure: {exc}")
    run = context.instance.get_run_by_id(context.run_id)
    partition = run.tags.get("dagster/partition") if run else None
    if not partition:
        return
    key = RecordKey.parse(partition)
    nocodb: NocoDBResource = context.resources.nocodb
    if key.is_local or not nocodb.configured or not key.row.isdigit():
        return
    try:
        nocodb.set_status(key.table, int(key.row), RowStatus.FAILED, error=message[:MAX_MESSAGE])
    except Exception as exc:
        context.log.warning(f"{partition}: could not write the failure into the row: {exc}")


def failure_reason(exc: BaseException | None) -> str:
    """The user-facing message: the stage's own error, not Dagster's wrapper around it."""
    seen = exc
    while seen is not None:
        if isinstance(seen, dg.Failure) and seen.description:
            return seen.description
        if isinstance(seen, TalkingHeadError):
            return str(seen)
        seen = seen.__cause__
    return str(exc) if exc else "unknown error"


def _caused_by(exc: BaseException | None, kinds: tuple[type[BaseException], ...]) -> bool:
    while exc is not None:
        if isinstance(exc, kinds):
            return True
        exc = exc.__cause__
    return False
