"""The composite's asset checks: all pass on a good render, and a failed one blocks publication."""

import importlib
import subprocess
import uuid
from pathlib import Path

import dagster as dg
import pytest

from talking_head_dagster.assets.composite import CompositeConfig, composite
from talking_head_dagster.assets.composite_checks import DESCRIPTIONS, SIZE, moov_before_mdat
from talking_head_dagster.assets.public_url import public_url
from talking_head_dagster.hooks.row_failure import row_failure
from talking_head_dagster.media.style import CompositeStyle
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.resources.nocodb import NocoDBResource, TableMapping
from talking_head_dagster.resources.publisher import Publisher
from talking_head_dagster.resources.speech import PiperSpeech
from talking_head_dagster.run_tags import ERROR_TAG
from tests.conftest import make_clip
from tests.services import nocodb
from tests.support.composite_stage import Upstream, materialize_composite

# The module, not the asset of the same name that the package exports.
composite_module = importlib.import_module("talking_head_dagster.assets.composite")
KEY = "local-checks_test"
SCRIPT = "Checks guard every video before it is published."


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Upstream:
    folder = tmp_path_factory.mktemp("checks_inputs")
    spoken = PiperSpeech().synthesize(SCRIPT, folder / "speech.wav")
    avatar = folder / "avatar.mp4"
    pattern = f"testsrc=size=512x512:rate=25:duration={spoken.duration_s + 0.1}"
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([ffmpeg_exe, "-v", "error", "-y", "-f", "lavfi", "-i", pattern, *encode, str(avatar)], check=True)
    return Upstream(
        background=make_clip(folder / "background.mp4", ffmpeg_exe, seconds=2.0),
        speech=folder / "speech.wav",
        avatar=avatar,
        script=SCRIPT,
        sentences=spoken.sentences,
        duration_s=spoken.duration_s,
    )


def test_every_check_passes_on_a_good_render(tmp_path: Path, upstream: Upstream) -> None:
    store, result = materialize_composite(tmp_path, KEY, upstream, CompositeStyle())
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == set(DESCRIPTIONS)
    assert all(e.passed for e in evaluations.values()), {n: e.description for n, e in evaluations.items()}
    assert "MiB of a 30.0 MiB cap" in evaluations[SIZE].description
    assert store.exists(KEY, "composite")


def test_a_failed_check_blocks_publication(tmp_path: Path, upstream: Upstream, monkeypatch) -> None:
    # Forced: the encode is given a bitrate far above what the 300 KiB cap allows, so the file ends over it.
    monkeypatch.setattr(composite_module, "video_ceiling_kbps", lambda *args: 20000)
    style = CompositeStyle(max_bytes=300 * 1024)
    store, alone = materialize_composite(tmp_path, KEY, upstream, style)
    assert not alone.success
    [size] = [e for e in alone.get_asset_check_evaluations() if e.check_name == SIZE]
    assert not size.passed and size.description.endswith("MiB, over the 0.3 MiB cap")
    assert not store.exists(KEY, "composite")  # not kept as the stage's result

    output = tmp_path / "output"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("records", [KEY])
        result = dg.materialize(
            [composite, public_url],
            partition_key=KEY,
            instance=instance,
            raise_on_error=False,
            resources={
                "artifacts": store,
                "ffmpeg": FFmpegResource(),
                "composite_format": CompositeConfig(style=style, models_dir=str(tmp_path / "models")),
                "publisher": Publisher(local_dir=str(output)),
            },
        )
    assert not result.success
    assert not result.asset_materializations_for_node("public_url")
    assert not output.exists() or not any(output.rglob("*.mp4"))


@pytest.mark.integration
def test_a_failed_check_is_the_rows_error_in_its_own_words(
    tmp_path: Path, upstream: Upstream, monkeypatch, nocodb_server
) -> None:
    """Not Dagster's "1 blocking asset check failed": the check's description, in the row and on the run."""
    monkeypatch.setattr(composite_module, "video_ceiling_kbps", lambda *args: 20000)
    style = CompositeStyle(max_bytes=300 * 1024)
    columns = [{"title": "status", "uidt": "SingleLineText"}, {"title": "error", "uidt": "LongText"}]
    table = nocodb.create_table(nocodb_server, f"checks_{uuid.uuid4().hex[:8]}", extra_columns=columns)
    [row] = nocodb.insert_rows(nocodb_server, table, [{"url": "https://example.com/v.mp4", "content": SCRIPT}])
    key = f"{table}-{row}"
    store, _ = materialize_composite(tmp_path, key, upstream, style)  # the upstream artifacts

    job = dg.define_asset_job("publish", selection=[composite, public_url], hooks={row_failure})
    defs = dg.Definitions(
        assets=[composite, public_url],
        jobs=[job],
        resources={
            "artifacts": store,
            "ffmpeg": FFmpegResource(),
            "composite_format": CompositeConfig(style=style, models_dir=str(tmp_path / "models")),
            "publisher": Publisher(local_dir=str(tmp_path / "output")),
            "nocodb": NocoDBResource(
                url=nocodb_server.base_url,
                api_token=nocodb_server.api_token,
                tables=[TableMapping(id=table, status_column="status", error_column="error")],
            ),
        },
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("records", [key])
        result = defs.resolve_job_def("publish").execute_in_process(
            partition_key=key, instance=instance, raise_on_error=False
        )
        tags = instance.get_run_by_id(result.run_id).tags
    assert not result.success
    cells = nocodb.get_row(nocodb_server, table, row)
    assert cells["status"] == "failed"
    assert cells["error"].startswith("composite: the video is ") and cells["error"].endswith(", over the 0.3 MiB cap")
    assert tags[ERROR_TAG] == cells["error"]


def test_faststart_is_read_from_the_box_order(tmp_path: Path, ffmpeg_exe: str) -> None:
    clip = make_clip(tmp_path / "clip.mp4", ffmpeg_exe, seconds=1.0)
    fast, slow = tmp_path / "fast.mp4", tmp_path / "slow.mp4"
    for out, flags in ((fast, ["-movflags", "+faststart"]), (slow, [])):
        subprocess.run([ffmpeg_exe, "-v", "error", "-y", "-i", str(clip), "-c", "copy", *flags, str(out)], check=True)
    assert moov_before_mdat(fast)
    assert not moov_before_mdat(slow)
