import dagster as dg

from talking_head_dagster.hooks.row_failure import row_failure
from talking_head_dagster.retry import transient_retry_policy
from talking_head_dagster.settings import RetrySettings

RENDER_RECORD_JOB = "render_record"


def build_render_record_job(retry: RetrySettings | None = None):
    """One run renders one record through all six stages, in one process.

    The stages are sequential anyway, and one process loads the voice and the face models once.
    Transient errors are retried under ``retry``; the stages fail everything else at once.
    """
    return dg.define_asset_job(
        name=RENDER_RECORD_JOB,
        selection=dg.AssetSelection.groups("talking_head"),
        executor_def=dg.in_process_executor,
        hooks={row_failure},
        op_retry_policy=transient_retry_policy(retry or RetrySettings()),
        description="Render one NocoDB row into a published talking-head video.",
    )
