import dagster as dg

from talking_head_dagster.assets.public_url import public_url
from talking_head_dagster.assets.stage import GROUP, Stopwatch, stage_errors
from talking_head_dagster.manifests import PublicationManifest
from talking_head_dagster.partitions import RecordKey, records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.nocodb import NocoDBResource


@dg.asset(partitions_def=records, group_name=GROUP, deps=[public_url], kinds={"python"}, code_version="1")
def nocodb_sync(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    nocodb: NocoDBResource,
) -> dg.MaterializeResult:
    """The row's result column set to the published URL (one-off renders have no row to update)."""
    key = context.partition_key
    watch = Stopwatch()
    record_key = RecordKey.parse(key)
    with stage_errors(context):
        publication = artifacts.manifest(key, "public_url", PublicationManifest)
        if record_key.is_local:
            context.log.info(f"{key}: one-off render, no NocoDB row to update; the video is at {publication.url}")
            return dg.MaterializeResult(
                metadata={
                    "updated": False,
                    "reason": "one-off render: no row to update",
                    "url": dg.MetadataValue.url(publication.url),
                    "stage_seconds": watch.seconds,
                }
            )
        mapping = nocodb.table(record_key.table)
        fields = {mapping.result_column: publication.url}
        if mapping.error_column:
            fields[mapping.error_column] = ""
        if mapping.status_column:
            fields[mapping.status_column] = "done"
        nocodb.update_row(record_key.table, int(record_key.row), fields)
    context.log.info(f"{key}: wrote the result URL into column '{mapping.result_column}'")
    return dg.MaterializeResult(
        metadata={
            "updated": True,
            "table": record_key.table,
            "row": int(record_key.row),
            "column": mapping.result_column,
            "url": dg.MetadataValue.url(publication.url),
            "stage_seconds": watch.seconds,
        }
    )
