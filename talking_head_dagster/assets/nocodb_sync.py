import dagster as dg

from talking_head_dagster.assets.public_url import public_url
from talking_head_dagster.assets.stage import GROUP, Stopwatch, load_record, record_identity, stage_errors
from talking_head_dagster.manifests import PublicationManifest
from talking_head_dagster.partitions import RecordKey, records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.nocodb import NocoDBResource
from talking_head_dagster.row_status import RowStatus

CHANGED_MEANWHILE = "The URL or script changed while the previous version was rendering; the new version is next."


@dg.asset(partitions_def=records, group_name=GROUP, deps=[public_url], kinds={"python"}, code_version="1")
def nocodb_sync(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    nocodb: NocoDBResource,
) -> dg.MaterializeResult:
    """The row's result column set to the published URL (one-off renders have no row to update).

    A row edited while it rendered keeps an empty result and no status, so the sensor renders the
    edited version next; a row deleted meanwhile ends the run with ``RowDeletedError``.
    """
    key = context.partition_key
    watch = Stopwatch()
    record_key = RecordKey.parse(key)
    with stage_errors(context):
        publication = artifacts.manifest(key, "public_url", PublicationManifest)
        if record_key.is_local:
            context.log.info(f"{key}: one-off render, no NocoDB row to update; the video is at {publication.url}")
            return dg.MaterializeResult(
                metadata={
                    **record_identity(context),
                    "updated": False,
                    "reason": "one-off render: no row to update",
                    "url": dg.MetadataValue.url(publication.url),
                    "stage_seconds": watch.seconds,
                }
            )
        mapping = nocodb.table(record_key.table)
        if load_record(key, nocodb, artifacts).version != publication.version:
            context.log.warning(f"{key}: {CHANGED_MEANWHILE}")
            fields = nocodb.status_fields(record_key.table, "", error=CHANGED_MEANWHILE)
            if fields:
                nocodb.update_row(record_key.table, int(record_key.row), fields)
            return dg.MaterializeResult(
                metadata={
                    **record_identity(context),
                    "updated": False,
                    "reason": CHANGED_MEANWHILE,
                    "stage_seconds": watch.seconds,
                }
            )
        fields = {mapping.result_column: publication.url, **nocodb.status_fields(record_key.table, RowStatus.DONE, "")}
        nocodb.update_row(record_key.table, int(record_key.row), fields)
    context.log.info(f"{key}: wrote the result URL into column '{mapping.result_column}'")
    return dg.MaterializeResult(
        metadata={
            **record_identity(context),
            "updated": True,
            "table": record_key.table,
            "row": int(record_key.row),
            "column": mapping.result_column,
            "url": dg.MetadataValue.url(publication.url),
            "stage_seconds": watch.seconds,
        }
    )
