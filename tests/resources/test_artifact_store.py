from pathlib import Path

import pytest

from talking_head_dagster.manifests import RecordSnapshot
from talking_head_dagster.resources.artifact_store import ArtifactStore, MissingArtifactError
from tests.support.deployment import fresh_bucket, object_keys, s3_connection


def _snapshot() -> RecordSnapshot:
    return RecordSnapshot(key="tbl-1", url="https://example.com/a.mp4", content="Hi.", version="v1")


def test_local_store_commits_whole_stages(tmp_path: Path) -> None:
    store = ArtifactStore(local_dir=str(tmp_path))
    assert not store.exists("tbl-1", "tts_audio")
    with pytest.raises(MissingArtifactError, match="materialise 'tts_audio'"):
        store.manifest("tbl-1", "tts_audio", RecordSnapshot)
    staging = store.staging_dir("tbl-1", "tts_audio")
    (staging / "speech.wav").write_bytes(b"RIFF")
    store.commit("tbl-1", "tts_audio", staging, _snapshot())
    assert store.manifest("tbl-1", "tts_audio", RecordSnapshot) == _snapshot()
    assert store.file("tbl-1", "tts_audio", "speech.wav").read_bytes() == b"RIFF"
    assert not staging.exists()


def test_keys_cannot_escape_the_store(tmp_path: Path) -> None:
    store = ArtifactStore(local_dir=str(tmp_path))
    for key in ("../etc-1", "a/b-1", "..-1"):
        with pytest.raises(ValueError):
            store.staging_dir(key, "source_video")


@pytest.mark.integration
def test_s3_store_is_found_from_another_machine(tmp_path: Path, s3_server) -> None:
    bucket = fresh_bucket(s3_server)
    connection = s3_connection(s3_server, bucket)
    here = ArtifactStore(backend="s3", local_dir=str(tmp_path / "here"), s3=connection)
    staging = here.staging_dir("tbl-1", "tts_audio")
    (staging / "speech.wav").write_bytes(b"RIFF-data")
    here.commit("tbl-1", "tts_audio", staging, _snapshot())
    assert object_keys(s3_server, bucket) == [
        "artifacts/tbl-1/tts_audio/manifest.json",
        "artifacts/tbl-1/tts_audio/speech.wav",
    ]
    # A second machine with an empty local cache.
    there = ArtifactStore(backend="s3", local_dir=str(tmp_path / "there"), s3=connection)
    assert there.manifest("tbl-1", "tts_audio", RecordSnapshot) == _snapshot()
    assert there.file("tbl-1", "tts_audio", "speech.wav").read_bytes() == b"RIFF-data"
    assert not there.exists("tbl-2", "tts_audio")
