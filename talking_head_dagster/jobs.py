import dagster as dg

from talking_head_dagster.hooks.row_failure import row_failure

# One run renders one record through all six stages, in one process: the stages are
# sequential anyway, and one process loads the voice and the face models once.
render_record_job = dg.define_asset_job(
    name="render_record",
    selection=dg.AssetSelection.groups("talking_head"),
    executor_def=dg.in_process_executor,
    hooks={row_failure},
    description="Render one NocoDB row into a published talking-head video.",
)
