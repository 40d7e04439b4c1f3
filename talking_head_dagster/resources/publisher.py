"""Publishing the finished MP4: an S3-compatible bucket, or a local directory for the embedded default."""

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import dagster as dg
from botocore.exceptions import BotoCoreError, ClientError

from talking_head_dagster.errors import StorageConfigError, StorageUnavailableError, TalkingHeadError
from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.resources.s3 import S3Connection

_VERSION = re.compile(r"[A-Za-z0-9_]{1,64}")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


@dataclass(frozen=True)
class Publication:
    url: str
    location: str
    uploaded: bool
    bytes: int


class Publisher(dg.ConfigurableResource):
    backend: Literal["local", "s3"] = "local"
    local_dir: str = "output"
    s3: S3Connection | None = None
    key_prefix: str = "videos/"
    public_base_url: str | None = None
    presign_expiry_s: int = 7 * 24 * 3600

    def object_key(self, partition_key: str, version: str, suffix: str = ".mp4") -> str:
        """Deterministic: the same record version always lands on the same key, inside the prefix."""
        if not _VERSION.fullmatch(version) or not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"Invalid record version {version!r} or suffix {suffix!r} for an object key.")
        return f"{self.key_prefix}{RecordKey.parse(partition_key)}/{version}{suffix}"

    def publish(self, path: Path, key: str, content_type: str = "video/mp4") -> Publication:
        if self.backend == "s3":
            return self._publish_s3(path, key, content_type)
        return self._publish_local(path, key)

    def _publish_local(self, path: Path, key: str) -> Publication:
        target = Path(self.local_dir).resolve() / key
        target.parent.mkdir(parents=True, exist_ok=True)
        uploaded = not (target.exists() and _same_file(target, path))
        if uploaded:
            tmp = target.with_name(target.name + ".part")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
        url = self._public_url(key) if self.public_base_url else target.as_uri()
        return Publication(url=url, location=str(target), uploaded=uploaded, bytes=target.stat().st_size)

    def _publish_s3(self, path: Path, key: str, content_type: str) -> Publication:
        """Upload once: an object already holding the same bytes (by MD5 ETag) is kept as is."""
        assert self.s3 is not None, "the s3 publisher needs an s3 connection"
        client = self.s3.client()
        bucket = self.s3.bucket
        digest = _md5(path)
        try:
            try:
                head = client.head_object(Bucket=bucket, Key=key)
                uploaded = head.get("ETag", "").strip('"') != digest
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                    raise
                uploaded = True
            if uploaded:
                # One PUT of the whole file: the object appears complete or not at all.
                with path.open("rb") as body:
                    client.put_object(
                        Bucket=bucket, Key=key, Body=body, ContentType=content_type, ContentMD5=_b64md5(digest)
                    )
            if self.public_base_url:
                url = self._public_url(key)
            else:
                url = client.generate_presigned_url(
                    "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=self.presign_expiry_s
                )
        except (BotoCoreError, ClientError) as exc:
            raise storage_error(f"Uploading to bucket {bucket!r} failed: {exc}", exc) from exc
        return Publication(url=url, location=f"s3://{bucket}/{key}", uploaded=uploaded, bytes=path.stat().st_size)

    def _public_url(self, key: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/{quote(key)}"


# S3 error codes that waiting cures; any other client error is the deployment's to fix.
_TRANSIENT_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)


def storage_error(message: str, exc: BotoCoreError | ClientError) -> TalkingHeadError:
    """Throttling, timeouts, 5xx and lost connections are transient; refused credentials or a missing bucket are not."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code not in _TRANSIENT_CODES and status != 429 and status < 500:
            return StorageConfigError(message)
    return StorageUnavailableError(message)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _b64md5(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and _md5(a) == _md5(b)
