"""The studio's own table: a Douyin share text and a Chinese script become a published video.

Real NocoDB (a table with the original system's columns), the real sensor, SeaweedFS, FFmpeg and
Piper. Two STAND-INS, because nothing here can reach them: Douyin is a loopback server answering as
public parsers document Douyin answering (tests/support/douyin_standin.py), and the Chinese voice is
an ONNX graph with Piper's signature whose config phonemizes with espeak ``cmn``
(tests/support/standin_voice.py). Neither live Douyin nor a real Chinese voice was run.
"""

import json
import os
import subprocess
import uuid
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import requests

from talking_head_dagster.failures import failure_message
from talking_head_dagster.media.layout import frame_layout
from talking_head_dagster.media.probe import probe
from talking_head_dagster.media.style import CompositeStyle
from talking_head_dagster.partitions import RecordKey
from talking_head_dagster.speech.timing import SpeechManifest
from tests.services import nocodb
from tests.support.deployment import (
    deploy,
    deployment_settings,
    fresh_bucket,
    launch,
    object_keys,
    s3_client,
    tick,
)
from tests.support.douyin_standin import REMOVED_ID, VERIFY_ID, VIDEO_ID
from tests.support.standin_voice import install_standin_zh_voice

pytestmark = pytest.mark.integration

SCRIPT_ZH = (Path(__file__).parent / "data" / "script_zh.txt").read_text(encoding="utf-8").strip()
SCRIPT_EN = "Phone prices fell by 15% this spring. The mid-range models now cost $299 to $399."
# The original system's columns (its table was titled 创意素材), plus the status and error columns.
ORIGINAL_COLUMNS = [
    {"title": "Title", "uidt": "SingleLineText"},
    {"title": "originaltext", "uidt": "LongText"},
    *({"title": f"image{i}", "uidt": "URL"} for i in range(1, 6)),
    {"title": "fengmianimage", "uidt": "URL"},
    {"title": "status", "uidt": "SingleLineText"},
    {"title": "error", "uidt": "LongText"},
]
# The stand-in speaks faster than a person would (a real voice takes ~2 min for this script): the
# test keeps its length, not its pace.
STANDIN_LENGTH_SCALE = 0.35
BACKGROUND = (32, 64, 96)  # a still, one-colour source video: only the subtitles change the band


def test_douyin_share_text_and_chinese_script_become_a_published_video(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    instance,
    nocodb_server,
    s3_server,
    media_server,
    media_host,
    douyin_standin,
    ffmpeg_exe,
) -> None:
    # 1. The deployment: the original table, the stand-in Chinese voice, Douyin resolved at the stand-in.
    table = nocodb.create_table(nocodb_server, f"chuangyi_{uuid.uuid4().hex[:8]}", extra_columns=ORIGINAL_COLUMNS)
    bucket = fresh_bucket(s3_server)
    settings = deployment_settings(
        tmp_path,
        nocodb_server,
        s3_server,
        [table],
        bucket,
        max_bytes=5_000_000,
        status_columns=True,
        allowed_hosts=(media_host, douyin_standin.host),
    )
    settings.download.douyin = douyin_standin.douyin_settings()
    zh_voice = _install_fast_standin_voice(tmp_path / "models")
    solid = _solid_clip(tmp_path / "solid.mp4", ffmpeg_exe)
    douyin_standin.media["solid.mp4"] = solid
    douyin_standin.play_targets[VIDEO_ID] = f"{douyin_standin.base_url}/media/solid.mp4"
    try:
        defs = deploy(monkeypatch, settings, nocodb_server, s3_server)
        rows = [
            {"Title": "2025年手机市场", "url": douyin_standin.share_text(VIDEO_ID), "content": SCRIPT_ZH},
            {"Title": "Phone prices", "url": f"{media_server}/clip.mp4", "content": SCRIPT_EN},
            {
                "Title": "没有链接",
                "url": "复制打开抖音，看看【某某的作品】今天不发链接了",
                "content": "这一行没有链接。",
            },
            {"Title": "已删除", "url": douyin_standin.share_text(REMOVED_ID), "content": "这个视频已经被删除了。"},
            {"Title": "要验证", "url": douyin_standin.share_text(VERIFY_ID), "content": "抖音要求验证。"},
        ]
        ids = nocodb.insert_rows(nocodb_server, table, rows)
        keys = [str(RecordKey(table, str(i))) for i in ids]

        # 2. The sensor finds every row; each run goes on its own.
        first = tick(defs, instance)
        assert sorted(r.partition_key for r in first.run_requests) == sorted(keys)
        results = {r.partition_key: launch(defs, instance, r) for r in first.run_requests}
    finally:
        douyin_standin.play_targets.pop(VIDEO_ID, None)

    # 3. The Chinese row: published, its row links to it, spoken by the Chinese voice.
    zh_key, en_key = keys[0], keys[1]
    assert results[zh_key].success, failure_message(results[zh_key])
    zh_row = nocodb.get_row(nocodb_server, table, ids[0])
    assert zh_row["status"] == "done" and not zh_row["error"], zh_row
    video = tmp_path / "zh.mp4"
    video.write_bytes(requests.get(zh_row["chengpinurl"], timeout=30).content)
    speech = _speech(tmp_path, zh_key)
    assert speech.voice == zh_voice and speech.language == "zh"
    info = probe(video, ffmpeg_exe)
    assert (info.video.width, info.video.height) == (1080, 1920)
    assert info.duration_s == pytest.approx(speech.duration_s, abs=0.1)

    # Its .srt beside the video holds the script's own text (digits, %, ¥), not the spoken form.
    published = object_keys(s3_server, bucket, f"videos/{zh_key}/")
    assert [Path(k).suffix for k in published] == [".mp4", ".srt"] and Path(published[0]).stem == Path(
        published[1]
    ).stem
    srt = s3_client(s3_server).get_object(Bucket=bucket, Key=published[1])["Body"].read().decode("utf-8")
    cues = _srt_cues(srt)
    assert "".join(text for _, _, text in cues).replace(" ", "") == "".join(s.text for s in speech.sentences).replace(
        " ", ""
    )
    for needle in ("2.97亿", "1.5%", "4999元", "2025年3月15日", "第2名", "12GB"):
        assert needle in srt, needle
    assert "百分之" not in srt and "二点九七" not in srt

    # Chinese subtitles are burned in: white text in the band at every cue, and the band changes at every
    # cue boundary (a long sentence's cue may change captions within itself too; the background is still).
    lit = [(_band(video, ffmpeg_exe, (a + b) / 2).max(axis=2) > 200).mean() for a, b, _ in cues]
    changes = [
        np.abs(_band(video, ffmpeg_exe, cues[i][1] - 0.12) - _band(video, ffmpeg_exe, cues[i + 1][0] + 0.12)).mean()
        for i in range(len(cues) - 1)
    ]
    print(f"subtitle band: {len(cues)} cues, least lit share {min(lit):.3f}, least change at a cue {min(changes):.2f}")
    assert min(lit) > 0.005, "a cue shows no white subtitle pixels"
    assert min(changes) > 1.0, changes

    _report_stages(results[zh_key], video, ffmpeg_exe)

    # 4. The English row: published too, with the English voice.
    assert results[en_key].success, failure_message(results[en_key])
    en_row = nocodb.get_row(nocodb_server, table, ids[1])
    assert en_row["status"] == "done" and en_row["chengpinurl"].startswith("http")
    assert _speech(tmp_path, en_key).voice == "en_US-joe-medium"

    # 5. Bad rows fail alone, with a message a user can act on, in the row and in Dagster; nothing uploaded.
    expected = {
        keys[2]: "no http(s) link",
        keys[3]: "removed",
        keys[4]: "verification",
    }
    for key, words in expected.items():
        assert not results[key].success, key
        message = failure_message(results[key])
        assert words in message.lower(), (key, message)
        row = nocodb.get_row(nocodb_server, table, int(RecordKey.parse(key).row))
        assert row["status"] == "failed" and words in row["error"].lower() and not row.get("chengpinurl"), row
        assert object_keys(s3_server, bucket, f"videos/{key}/") == []


def _report_stages(result: dg.ExecuteInProcessResult, video: Path, ffmpeg: str) -> None:
    """Print each stage's time and keep a thumbnail of the Chinese video under benchmarks/out/ to look at."""
    times = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        value = materialization.metadata.get("stage_seconds")
        times[materialization.asset_key.to_user_string()] = getattr(value, "value", value)
    print("Chinese row stage seconds:", json.dumps(times), "load average:", os.getloadavg())
    out = Path(__file__).resolve().parent.parent / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    for at in (3.0, 20.0):
        subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-ss", str(at), "-i", str(video),
             "-frames:v", "1", "-vf", "scale=540:-2", str(out / f"original_table_zh_{at:.0f}s.png")],
            check=True,
        )  # fmt: skip


def _install_fast_standin_voice(models: Path) -> str:
    name = install_standin_zh_voice(models)
    config_path = models / f"{name}.onnx.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["inference"]["length_scale"] = STANDIN_LENGTH_SCALE
    config_path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    return name


def _solid_clip(path: Path, ffmpeg: str) -> Path:
    """A 4 s source video of one still colour, with a tone for the ducking to duck."""
    colour = "0x{:02x}{:02x}{:02x}".format(*BACKGROUND)
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"color=c={colour}:size=720x1280:rate=25:duration=4",
            "-f", "lavfi", "-i", "sine=frequency=220:duration=4",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def _speech(tmp_path: Path, key: str) -> SpeechManifest:
    manifest = tmp_path / "artifacts" / key / "tts_audio" / "manifest.json"
    return SpeechManifest.model_validate_json(manifest.read_text(encoding="utf-8"))


def _srt_cues(srt: str) -> list[tuple[float, float, str]]:
    cues = []
    for block in srt.strip().split("\n\n"):
        lines = block.strip().splitlines()
        start, end = (_seconds(t) for t in lines[1].split(" --> "))
        cues.append((start, end, "".join(lines[2:])))
    return cues


def _seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.strip().split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest.replace(",", "."))


def _band(video: Path, ffmpeg: str, at_s: float) -> np.ndarray:
    """The subtitle band of the frame at ``at_s``: full width, the two lines above the subtitles' baseline."""
    layout = frame_layout(CompositeStyle())
    height = round(layout.height * 0.12)
    top = layout.subtitle_bottom - height
    raw = subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-ss", f"{at_s:.3f}", "-i", str(video),
            "-frames:v", "1", "-vf", f"crop={layout.width}:{height}:0:{top}",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ],
        check=True,
        capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(height, layout.width, 3).astype(np.float32)
