import os
import time
from pathlib import Path

import dagster as dg
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


def _aged_record(store: ArtifactStore, key: str, hours_old: float, stages=("source_video", "tts_audio", "public_url")):
    for stage in stages:
        staging = store.staging_dir(key, stage)
        (staging / "data.bin").write_bytes(b"\0" * 100_000)
        store.commit(key, stage, staging, _snapshot())
    _age(Path(store.local_dir) / key, hours_old)


def _age(path: Path, hours_old: float) -> None:
    then = time.time() - hours_old * 3600
    for item in [path, *path.rglob("*")]:
        os.utime(item, (then, then))


def _bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_prune_keeps_disk_use_to_the_retention_window(tmp_path: Path) -> None:
    store = ArtifactStore(local_dir=str(tmp_path), retention_hours=72)
    _aged_record(store, "tbl-1", hours_old=100)  # done long ago
    _aged_record(store, "tbl-2", hours_old=1)  # recent
    _aged_record(store, "tbl-3", hours_old=100)  # old, but a run of it is in flight again
    crashed = store.staging_dir("tbl-4", "composite")  # a killed stage's leftovers
    (crashed / "composite.mp4").write_bytes(b"\0" * 100_000)
    _age(crashed, 100)
    fresh = store.staging_dir("tbl-5", "composite")  # a stage writing right now
    before = _bytes(tmp_path)

    removed = store.prune(busy={"tbl-3"})

    assert sorted(p.name for p in (tmp_path / "tbl-1").iterdir()) == ["public_url"]
    assert store.manifest("tbl-1", "public_url", RecordSnapshot) == _snapshot()
    assert sorted(p.name for p in (tmp_path / "tbl-2").iterdir()) == ["public_url", "source_video", "tts_audio"]
    assert sorted(p.name for p in (tmp_path / "tbl-3").iterdir()) == ["public_url", "source_video", "tts_audio"]
    assert not crashed.exists() and fresh.exists()
    assert len(removed) == 3
    assert before - _bytes(tmp_path) >= 3 * 100_000  # two stages and the staging leftovers


def test_prune_with_no_retention_keeps_everything(tmp_path: Path) -> None:
    store = ArtifactStore(local_dir=str(tmp_path), retention_hours=0)
    _aged_record(store, "tbl-1", hours_old=10_000)
    assert store.prune() == []
    assert (tmp_path / "tbl-1" / "source_video").is_dir()


def test_the_cleanup_job_spares_records_with_a_run_in_flight(tmp_path: Path, instance) -> None:
    from dagster._core.storage.dagster_run import DagsterRun

    from talking_head_dagster.cleanup import artifact_cleanup

    store = ArtifactStore(local_dir=str(tmp_path), retention_hours=1)
    _aged_record(store, "tbl-1", hours_old=5)
    _aged_record(store, "tbl-2", hours_old=5)
    instance.add_run(
        DagsterRun(
            job_name="render_record",
            run_id="a" * 32,
            status=dg.DagsterRunStatus.STARTED,
            tags={"dagster/partition": "tbl-2"},
        )
    )
    result = artifact_cleanup.execute_in_process(instance=instance, resources={"artifacts": store})
    assert result.success and result.output_for_node("prune_artifacts") == 2
    assert sorted(p.name for p in (tmp_path / "tbl-1").iterdir()) == ["public_url"]
    assert (tmp_path / "tbl-2" / "tts_audio").is_dir()


@pytest.mark.integration
def test_prune_removes_old_objects_from_s3_too(tmp_path: Path, s3_server) -> None:
    bucket = fresh_bucket(s3_server)
    store = ArtifactStore(backend="s3", local_dir=str(tmp_path), s3=s3_connection(s3_server, bucket), retention_hours=1)
    _aged_record(store, "tbl-1", hours_old=5)
    _aged_record(store, "tbl-2", hours_old=5)
    # One minute after the retention has passed for every object in the bucket.
    store.prune(busy={"tbl-2"}, now=time.time() + 3600 + 60)
    assert object_keys(s3_server, bucket) == [
        "artifacts/tbl-1/public_url/data.bin",
        "artifacts/tbl-1/public_url/manifest.json",
        *[
            f"artifacts/tbl-2/{stage}/{name}"
            for stage in ("public_url", "source_video", "tts_audio")
            for name in ("data.bin", "manifest.json")
        ],
    ]


def test_prune_removes_a_dead_runs_staging_within_minutes(tmp_path: Path) -> None:
    """A killed stage's staging folder goes at the next prune once its record has no run in flight;
    a live stage's (busy record) and one just created (a run started after the prune looked) stay."""
    store = ArtifactStore(local_dir=str(tmp_path), retention_hours=72)
    dead = store.staging_dir("tbl-1", "composite")
    (dead / "composite.mp4").write_bytes(b"\0" * 1000)
    live = store.staging_dir("tbl-2", "composite")
    just_started = store.staging_dir("tbl-3", "avatar_video")
    for folder in (dead, live):
        _age(folder, 0.5)  # half an hour: well inside the retention

    removed = store.prune(busy={"tbl-2"})

    assert removed == [str(dead)]
    assert live.exists() and just_started.exists()
