from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError, EndpointConnectionError

from talking_head_dagster.errors import StorageConfigError, StorageUnavailableError
from talking_head_dagster.resources.publisher import Publisher, storage_error
from talking_head_dagster.resources.s3 import S3Connection
from tests.support.deployment import fresh_bucket, object_keys, s3_connection


def test_local_publisher_copies_once_under_the_key(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00" * 1000)
    publisher = Publisher(local_dir=str(tmp_path / "out"))
    key = publisher.object_key("tbl-1", "abc123")
    first = publisher.publish(video, key)
    second = publisher.publish(video, key)
    assert key == "videos/tbl-1/abc123.mp4"
    assert first.uploaded and not second.uploaded
    assert Path(first.location).read_bytes() == video.read_bytes()
    assert first.url == Path(first.location).as_uri()
    assert (
        Publisher(local_dir=str(tmp_path / "out"), public_base_url="https://cdn.example.com/v/").publish(video, key).url
        == "https://cdn.example.com/v/videos/tbl-1/abc123.mp4"
    )


@pytest.mark.integration
def test_s3_publisher_uploads_once_and_presigns(tmp_path: Path, s3_server) -> None:
    bucket = fresh_bucket(s3_server)
    connection = s3_connection(s3_server, bucket)
    publisher = Publisher(backend="s3", s3=connection)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"ftyp" + b"\x01" * 5000)
    key = publisher.object_key("tbl-7", "v1")
    first, second = publisher.publish(video, key), publisher.publish(video, key)
    assert first.uploaded and not second.uploaded
    assert object_keys(s3_server, bucket) == [key]
    assert requests.get(first.url, timeout=10).content == video.read_bytes()
    # Changed bytes under the same key replace the object (still exactly one).
    video.write_bytes(b"ftyp" + b"\x02" * 5000)
    assert publisher.publish(video, key).uploaded
    assert object_keys(s3_server, bucket) == [key]


@pytest.mark.integration
def test_wrong_secret_is_refused(tmp_path: Path, s3_server) -> None:
    from talking_head_dagster.errors import StorageConfigError

    bucket = fresh_bucket(s3_server)
    connection = S3Connection(
        endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key,
        secret_access_key="not-the-secret",
        bucket=bucket,
    )
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    # Not worth retrying: the operator has to fix the key.
    with pytest.raises(StorageConfigError, match="Uploading to bucket"):
        Publisher(backend="s3", s3=connection).publish(video, "videos/a/b.mp4")


def test_object_keys_stay_inside_the_prefix() -> None:
    publisher = Publisher()
    for partition, version, suffix in (
        ("../x-1", "v1", ".mp4"),
        ("a/b-1", "v1", ".mp4"),
        ("t-1", "../v", ".mp4"),
        ("t-1", "v1", "/../x"),
    ):
        with pytest.raises(ValueError):
            publisher.object_key(partition, version, suffix)


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("SlowDown", 503, StorageUnavailableError),
        ("Throttling", 400, StorageUnavailableError),
        ("RequestTimeout", 400, StorageUnavailableError),
        ("InternalError", 500, StorageUnavailableError),
        ("TooManyRequests", 429, StorageUnavailableError),
        ("AccessDenied", 403, StorageConfigError),
        ("SignatureDoesNotMatch", 403, StorageConfigError),
        ("NoSuchBucket", 404, StorageConfigError),
    ],
)
def test_s3_errors_are_sorted_into_transient_and_deployment(code: str, status: int, kind: type) -> None:
    error = ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")
    assert isinstance(storage_error("Uploading failed", error), kind)
    assert isinstance(
        storage_error("Uploading failed", EndpointConnectionError(endpoint_url="http://x")), StorageUnavailableError
    )
