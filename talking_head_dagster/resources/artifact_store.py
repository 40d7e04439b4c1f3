"""Intermediate files of every stage, addressed by partition key and asset name.

Layout: ``<root>/<partition key>/<asset>/`` holds the stage's files and a ``manifest.json``
describing them. A stage writes into a fresh staging directory and commits it at the end,
so a crash never leaves a manifest that points at half-written files. With the S3 backend
the committed files are uploaded under ``<prefix><partition key>/<asset>/`` and fetched
back on demand by a stage running on another machine; the local directory then acts as a cache.
"""

import json
import shutil
import time
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Literal, TypeVar

import dagster as dg
from pydantic import BaseModel

from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.resources.s3 import S3Connection

M = TypeVar("M", bound=BaseModel)
MANIFEST = "manifest.json"
STAGING = ".staging"
# Kept when a record's intermediates are pruned: small, and it says what was published where.
KEPT_ON_PRUNE = "public_url"
# A staging folder of a record with no run in flight, untouched this long, is a dead run's: a live
# stage writes into its folder as it goes, and a run started after the prune's look at the runs
# has a folder newer than this.
ABANDONED_STAGING_S = 600.0


class MissingArtifactError(Exception):
    """An upstream stage has not been materialised for this record yet."""


class ArtifactStore(dg.ConfigurableResource):
    backend: Literal["local", "s3"] = "local"
    local_dir: str = ".artifacts"
    s3: S3Connection | None = None
    s3_prefix: str = "artifacts/"
    retention_hours: float = 72.0

    def staging_dir(self, key: str, asset: str) -> Path:
        """An empty directory to write a stage's files into before ``commit``."""
        stage = self._root() / STAGING / f"{RecordKey.parse(key)}-{asset}-{uuid.uuid4().hex[:8]}"
        stage.mkdir(parents=True)
        return stage

    def commit(self, key: str, asset: str, staging: Path, manifest: BaseModel) -> Path:
        """Move a staging directory into place with its manifest; upload it for the S3 backend."""
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2))
        final = self._asset_dir(key, asset)
        if final.exists():
            shutil.rmtree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(final)
        if self.backend == "s3":
            self._upload_dir(key, asset, final)
        return final

    def manifest(self, key: str, asset: str, model: type[M]) -> M:
        """The committed manifest of ``asset`` for ``key``; raises if the stage has not run."""
        path = self.file(key, asset, MANIFEST)
        return model.model_validate(json.loads(path.read_text()))

    def file(self, key: str, asset: str, filename: str) -> Path:
        """Local path of a committed file, downloaded first when it lives only in S3."""
        path = self._asset_dir(key, asset) / Path(filename).name
        if path.exists():
            return path
        if self.backend == "s3" and self._download(key, asset, path):
            return path
        raise MissingArtifactError(
            f"No '{asset}' output for record {key}: materialise '{asset}' for this partition first."
        )

    def exists(self, key: str, asset: str) -> bool:
        try:
            self.file(key, asset, MANIFEST)
        except MissingArtifactError:
            return False
        return True

    def prune(self, busy: Collection[str] = (), now: float | None = None, local_only: bool = False) -> list[str]:
        """Remove what nothing has touched for ``retention_hours``; return what was removed.

        Steps: 1. staging folders (what a crashed or killed stage left): after the retention, or
        after ``ABANDONED_STAGING_S`` when their record is not ``busy``; 2. each record's stage
        folders but ``public_url``, once its newest file is older than the retention, unless the
        record is ``busy`` (a run of it is in flight); 3. the same under the S3 prefix, unless
        ``local_only`` (a location that only caches the store).
        """
        if self.retention_hours <= 0:
            return []
        now = time.time() if now is None else now
        cutoff = now - self.retention_hours * 3600
        removed: list[str] = []
        root = self._root()
        # 1. Leftovers of stages that never committed.
        for staging in sorted((root / STAGING).glob("*")) if (root / STAGING).is_dir() else []:
            record = staging.name.rsplit("-", 2)[0]  # '<record>-<asset>-<8 hex>'
            abandoned = record not in busy and _newest_mtime(staging) < now - ABANDONED_STAGING_S
            if abandoned or _newest_mtime(staging) < cutoff:
                shutil.rmtree(staging, ignore_errors=True)
                removed.append(str(staging))
        # 2. Records nothing has touched.
        for record in sorted(p for p in root.iterdir() if p.is_dir() and p.name != STAGING) if root.is_dir() else []:
            if record.name in busy or _newest_mtime(record) >= cutoff:
                continue
            for stage in sorted(p for p in record.iterdir() if p.is_dir() and p.name != KEPT_ON_PRUNE):
                shutil.rmtree(stage, ignore_errors=True)
                removed.append(str(stage))
        # 3. Their copies in S3.
        if self.backend == "s3" and not local_only:
            removed += self._prune_s3(busy, cutoff)
        return removed

    def _prune_s3(self, busy: Collection[str], cutoff: float) -> list[str]:
        assert self.s3 is not None, "the s3 artifact backend needs an s3 connection"
        client = self.s3.client()
        objects: dict[str, list[tuple[str, float]]] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.s3.bucket, Prefix=self.s3_prefix):
            for item in page.get("Contents", []):
                record = item["Key"].removeprefix(self.s3_prefix).split("/", 1)[0]
                objects.setdefault(record, []).append((item["Key"], item["LastModified"].timestamp()))
        removed = []
        for record, items in sorted(objects.items()):
            if record in busy or max(modified for _, modified in items) >= cutoff:
                continue
            kept = f"{self.s3_prefix}{record}/{KEPT_ON_PRUNE}/"
            doomed = [key for key, _ in items if not key.startswith(kept)]
            for start in range(0, len(doomed), 1000):
                chunk = [{"Key": key} for key in doomed[start : start + 1000]]
                client.delete_objects(Bucket=self.s3.bucket, Delete={"Objects": chunk, "Quiet": True})
            removed += doomed
        return removed

    def _root(self) -> Path:
        return Path(self.local_dir).resolve()

    def _asset_dir(self, key: str, asset: str) -> Path:
        return self._root() / str(RecordKey.parse(key)) / asset

    def _object_key(self, key: str, asset: str, filename: str) -> str:
        return f"{self.s3_prefix}{RecordKey.parse(key)}/{asset}/{filename}"

    def _upload_dir(self, key: str, asset: str, directory: Path) -> None:
        assert self.s3 is not None, "the s3 artifact backend needs an s3 connection"
        client = self.s3.client()
        files = sorted(p for p in directory.iterdir() if p.is_file() and p.name != MANIFEST)
        # The manifest goes last: its presence marks a complete upload.
        for path in [*files, directory / MANIFEST]:
            client.upload_file(str(path), self.s3.bucket, self._object_key(key, asset, path.name))

    def _download(self, key: str, asset: str, path: Path) -> bool:
        assert self.s3 is not None, "the s3 artifact backend needs an s3 connection"
        client = self.s3.client()
        try:
            client.head_object(Bucket=self.s3.bucket, Key=self._object_key(key, asset, MANIFEST))
        except client.exceptions.ClientError:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        client.download_file(self.s3.bucket, self._object_key(key, asset, path.name), str(tmp))
        tmp.rename(path)
        return True


def _newest_mtime(path: Path) -> float:
    """When anything under ``path`` (itself included) last changed."""
    times = [path.stat().st_mtime]
    times += [p.stat().st_mtime for p in path.rglob("*")]
    return max(times)
