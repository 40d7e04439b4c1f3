"""A test deployment: the real Definitions pointed at the test NocoDB table and SeaweedFS bucket."""

import dataclasses
import json
import uuid
from pathlib import Path

import dagster as dg
import pytest
from pydantic import SecretStr

from talking_head_dagster.definitions import build_definitions
from talking_head_dagster.resources.factory import NOCODB_TOKEN_ENV, S3_SECRET_ENV
from talking_head_dagster.resources.s3 import S3Connection
from talking_head_dagster.settings import (
    ArtifactSettings,
    DownloadSettings,
    NocoDBSettings,
    PublishSettings,
    RetrySettings,
    S3Settings,
    Settings,
    SpeechSettings,
    TableSettings,
)


def deployment_settings(
    tmp_path: Path,
    nocodb_server,
    s3_server,
    table_ids: list[str],
    bucket: str,
    max_bytes: int = 2_000_000,
    status_columns: bool = False,
    allowed_hosts: tuple[str, ...] = (),
) -> Settings:
    """Settings of a deployment on the test services; ``allowed_hosts`` names the tests' media server."""
    columns = {"status_column": "status", "error_column": "error"} if status_columns else {}
    return Settings(
        nocodb=NocoDBSettings(
            url=nocodb_server.base_url,
            api_token=SecretStr(nocodb_server.api_token),
            tables=[TableSettings(id=table_id, **columns) for table_id in table_ids],
            page_size=200,
            max_runs_per_tick=50,
        ),
        s3=S3Settings(
            endpoint_url=s3_server.endpoint_url,
            region=s3_server.region,
            access_key_id=s3_server.access_key,
            secret_access_key=SecretStr(s3_server.secret_key),
            bucket=bucket,
        ),
        artifacts=ArtifactSettings(local_dir=tmp_path / "artifacts"),
        publish=PublishSettings(backend="s3"),
        download=DownloadSettings(max_bytes=max_bytes, timeout_s=60, allowed_hosts=list(allowed_hosts)),
        speech=SpeechSettings(models_dir=tmp_path / "models"),
        # Tests wait for transient trouble seconds, not minutes.
        retry=RetrySettings(base_delay_s=0.5, max_total_s=20),
    )


def proxied_nocodb_settings(tmp_path: Path, nocodb_server, proxy_url: str, s3_server, table: str) -> Settings:
    """A table with status columns on NocoDB reached through a fault proxy; no S3 bucket (no uploads)."""
    proxied = dataclasses.replace(nocodb_server, base_url=proxy_url)
    return deployment_settings(tmp_path, proxied, s3_server, [table], "unused", status_columns=True)


def deploy(monkeypatch: pytest.MonkeyPatch, settings: Settings, nocodb_server, s3_server) -> dg.Definitions:
    """Secrets through the environment, as in production; everything else through settings."""
    monkeypatch.setenv(NOCODB_TOKEN_ENV, nocodb_server.api_token)
    monkeypatch.setenv(S3_SECRET_ENV, s3_server.secret_key)
    return build_definitions(settings)


def deployment_env(
    nocodb_server, s3_server, *, table: dict[str, str], bucket: str, media_host: str, artifacts_dir: Path
) -> dict[str, str]:
    """The ``TALKING_HEAD_*`` environment of a deployment on the test NocoDB and S3 server, as a daemon,
    code server or run process reads it: results in S3, intermediates cached locally, downloads
    allowed from the test media server only."""
    return {
        "TALKING_HEAD_NOCODB__URL": nocodb_server.base_url,
        "TALKING_HEAD_NOCODB__API_TOKEN": nocodb_server.api_token,
        "TALKING_HEAD_NOCODB__TABLES": json.dumps([table]),
        "TALKING_HEAD_S3__ENDPOINT_URL": s3_server.endpoint_url,
        "TALKING_HEAD_S3__REGION": s3_server.region,
        "TALKING_HEAD_S3__ACCESS_KEY_ID": s3_server.access_key,
        "TALKING_HEAD_S3__SECRET_ACCESS_KEY": s3_server.secret_key,
        "TALKING_HEAD_S3__BUCKET": bucket,
        "TALKING_HEAD_PUBLISH__BACKEND": "s3",
        "TALKING_HEAD_ARTIFACTS__LOCAL_DIR": str(artifacts_dir),
        "TALKING_HEAD_DOWNLOAD__ALLOWED_HOSTS": json.dumps([media_host]),
    }


def run_process_env(
    tmp_path: Path, nocodb_server, s3_server, *, table: str, bucket: str, media_host: str
) -> dict[str, str]:
    """The environment of a run worker on a table with status and error columns, its instance in
    ``tmp_path/dagster_home`` (created), its artifacts and voices under ``tmp_path``."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    return {
        "DAGSTER_HOME": str(home),
        **deployment_env(
            nocodb_server,
            s3_server,
            table={"id": table, "status_column": "status", "error_column": "error"},
            bucket=bucket,
            media_host=media_host,
            artifacts_dir=tmp_path / "artifacts",
        ),
        "TALKING_HEAD_SPEECH__MODELS_DIR": str(tmp_path / "models"),
    }


def s3_connection(s3_server, bucket: str = "unused") -> S3Connection:
    return S3Connection(
        endpoint_url=s3_server.endpoint_url,
        region=s3_server.region,
        access_key_id=s3_server.access_key,
        secret_access_key=s3_server.secret_key,
        bucket=bucket,
    )


def s3_client(s3_server):
    return s3_connection(s3_server).client()


def fresh_bucket(s3_server) -> str:
    from tests.services import seaweedfs

    name = f"th-{uuid.uuid4().hex[:10]}"
    seaweedfs.create_bucket(s3_server, name)
    return name


def object_keys(s3_server, bucket: str, prefix: str = "") -> list[str]:
    listing = s3_client(s3_server).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorResult:
    """One real evaluation of the NocoDB sensor, with its add-partition requests applied."""
    sensor = defs.get_sensor_def("nocodb_rows")
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
    ) as context:
        result = sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def launch(defs: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """Execute a sensor's run request in this process, tagged as the daemon would tag it."""
    job = defs.resolve_job_def("render_record")
    return job.execute_in_process(
        partition_key=request.partition_key,
        instance=instance,
        tags={**request.tags, "dagster/run_key": request.run_key},
        raise_on_error=False,
    )
