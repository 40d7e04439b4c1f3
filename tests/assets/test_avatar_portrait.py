"""Whose face speaks: a table's own portrait (one table per presenter or channel) over the deployment's."""

from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from talking_head_dagster.assets.avatar_video import avatar_video
from talking_head_dagster.hooks.row_failure import row_failure
from talking_head_dagster.partitions import records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.avatar import AvatarRenderer
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.nocodb import NocoDBResource, TableMapping
from talking_head_dagster.speech.timing import SentenceTiming, SpeechManifest
from tests.avatar.conftest import write_wav

RATE = 22050


@pytest.fixture
def faceless(tmp_path: Path) -> Path:
    """A grey square: a picture with no face in it."""
    path = tmp_path / "wall.png"
    Image.fromarray(np.full((400, 400, 3), 128, np.uint8)).save(path)
    return path


def _materialize(tmp_path: Path, key: str, tables: list[TableMapping]) -> dg.ExecuteInProcessResult:
    store = ArtifactStore(backend="local", local_dir=str(tmp_path / "artifacts"))
    staging = store.staging_dir(key, "tts_audio")
    tone = (3000 * np.sin(2 * np.pi * 220 * np.arange(RATE) / RATE)).astype(np.int16)
    write_wav(staging / "speech.wav", tone, RATE)
    speech = SpeechManifest(
        wav_file="speech.wav", text="Hello.", language="en", voice="stand-in", sample_rate=RATE, duration_s=1.0,
        sentences=[SentenceTiming(index=0, text="Hello.", start_s=0.0, end_s=1.0)], synthesis_seconds=0.0,
    )  # fmt: skip
    store.commit(key, "tts_audio", staging, speech)
    # As in the deployment's job, whose failure hook gives every run its NocoDB client.
    defs = dg.Definitions(
        assets=[avatar_video],
        jobs=[dg.define_asset_job("avatar_only", selection=[avatar_video], hooks={row_failure})],
        resources={
            "artifacts": store,
            "avatar": AvatarRenderer(backend="lite"),
            "ffmpeg": FFmpegResource(),
            "nocodb": NocoDBResource(tables=tables),
        },
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(records.name, [key])
        job = defs.resolve_job_def("avatar_only")
        return job.execute_in_process(partition_key=key, instance=instance, raise_on_error=False)


def test_a_tables_portrait_is_the_one_animated(tmp_path: Path, faceless: Path) -> None:
    tables = [TableMapping(id="presenter_a", portrait=str(faceless))]
    # The table's portrait is used: it has no face, so the row fails with the portrait's own reason.
    failed = _materialize(tmp_path, "presenter_a-7", tables)
    assert not failed.success
    reason = failed.failure_data_for_node("avatar_video").user_failure_data.description
    assert "face" in reason.lower()
    # Another table keeps the deployment's portrait, which has a face.
    other = _materialize(tmp_path, "presenter_b-7", tables)
    assert other.success
    metadata = other.asset_materializations_for_node("avatar_video")[0].metadata
    assert Path(metadata["portrait"].value).name == "grace_hopper.jpg"
