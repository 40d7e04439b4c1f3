"""The composite asset on real FFmpeg and a real Piper voice: timing, sync, loudness, cap, layouts, subtitles.

Each test writes the upstream stages' artifacts (a Piper speech, a test-pattern avatar, a source clip
with a tone) into a local artifact store and materialises ``composite`` alone, as Dagster would when a
user re-materialises one stage.
"""

import math
import re
import subprocess
import wave
from pathlib import Path

import dagster as dg
import matplotlib
import numpy as np
import pytest

from talking_head_dagster.assets.composite import MP4, SRT, THUMBNAIL
from talking_head_dagster.manifests import CompositeManifest
from talking_head_dagster.media.probe import count_video_frames, probe
from talking_head_dagster.media.style import CompositeStyle
from talking_head_dagster.resources.speech import PiperSpeech
from talking_head_dagster.speech.timing import SentenceTiming
from tests.avatar.conftest import write_wav
from tests.conftest import make_clip
from tests.support.composite_stage import Upstream, materialize_composite

SCRIPT = "Welcome to the channel. Today we look at three quick tips for better videos."
LEAD_SILENCE_S = 0.8
KEY = "local-composite_test"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> dict[str, object]:
    """Speech with a silent lead-in (to hear the ducked background), an avatar clip, two backgrounds, music."""
    folder = tmp_path_factory.mktemp("composite_inputs")
    spoken = PiperSpeech().synthesize(SCRIPT, folder / "spoken.wav")
    rate, samples = _read_wav(folder / "spoken.wav")
    lead = np.zeros(round(LEAD_SILENCE_S * rate), np.int16)
    write_wav(folder / "speech.wav", np.concatenate([lead, samples]), rate)
    sentences = [
        SentenceTiming(index=s.index, text=s.text, start_s=s.start_s + LEAD_SILENCE_S, end_s=s.end_s + LEAD_SILENCE_S)
        for s in spoken.sentences
    ]
    duration = len(lead) / rate + len(samples) / rate
    avatar = folder / "avatar.mp4"
    pattern = f"testsrc=size=512x512:rate=25:duration={duration + 0.1}"
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([ffmpeg_exe, "-v", "error", "-y", "-f", "lavfi", "-i", pattern, *encode, str(avatar)], check=True)
    music = folder / "music.m4a"
    tone = "sine=frequency=550:duration=3"
    subprocess.run([ffmpeg_exe, "-v", "error", "-y", "-f", "lavfi", "-i", tone, "-c:a", "aac", str(music)], check=True)
    return {
        "speech": folder / "speech.wav",
        "rate": rate,
        "duration": duration,
        "sentences": sentences,
        "avatar": avatar,
        "short_background": make_clip(folder / "short.mp4", ffmpeg_exe, seconds=2.5, size="640x360"),
        "music": music,
        "speech_onset": LEAD_SILENCE_S + _onset(samples, rate),
    }


def render(
    tmp_path: Path,
    inputs: dict[str, object],
    style: CompositeStyle,
    sentences: list[SentenceTiming] | None = None,
    layout: str | None = None,
    models_dir: Path | None = None,
) -> tuple[CompositeManifest, Path, dg.ExecuteInProcessResult]:
    """Materialise ``composite`` for prepared upstream artifacts; returns its manifest and folder."""
    upstream = Upstream(
        background=inputs["short_background"],  # type: ignore[arg-type]
        speech=inputs["speech"],  # type: ignore[arg-type]
        avatar=inputs["avatar"],  # type: ignore[arg-type]
        script=SCRIPT,
        sentences=sentences if sentences is not None else inputs["sentences"],  # type: ignore[arg-type]
        duration_s=inputs["duration"],  # type: ignore[arg-type]
        layout=layout,
    )
    store, result = materialize_composite(
        tmp_path / "artifacts", KEY, upstream, style, models_dir=models_dir or tmp_path / "models"
    )
    manifest = store.manifest(KEY, "composite", CompositeManifest) if result.success else None
    return manifest, tmp_path / "artifacts" / KEY / "composite", result  # type: ignore[return-value]


@pytest.fixture(scope="module")
def default_render(tmp_path_factory, inputs):
    """9:16, picture-in-picture, ducked background audio plus music, subtitles on."""
    style = CompositeStyle(music_file=str(inputs["music"]))
    return render(tmp_path_factory.mktemp("default"), inputs, style)


@pytest.fixture(scope="module")
def plain_render(tmp_path_factory, inputs):
    """The same video with no subtitles and no background audio: the baseline for band and sync checks."""
    style = CompositeStyle(subtitles=False, background_audio="mute")
    return render(tmp_path_factory.mktemp("plain"), inputs, style)


def test_duration_is_the_speech_to_the_frame(default_render, inputs, ffmpeg_exe):
    manifest, folder, _ = default_render
    frames = count_video_frames(folder / MP4, ffmpeg_exe)
    assert frames == math.ceil(inputs["duration"] * 25)
    assert abs(manifest.duration_s - inputs["duration"]) <= 1 / 25 + 0.03


def test_loudness_and_true_peak_meet_the_platform_norm(default_render, ffmpeg_exe):
    manifest, folder, _ = default_render
    integrated, true_peak = _loudness(folder / MP4, ffmpeg_exe)
    assert abs(integrated - (-14.0)) <= 1.0, integrated
    assert true_peak <= -1.0 + 0.2, true_peak  # measured again after AAC, which adds a little overshoot
    assert manifest.loudness_lufs is not None and abs(manifest.loudness_lufs - integrated) < 1.0


def test_background_audio_and_music_are_ducked_under_the_voice(default_render, inputs, ffmpeg_exe):
    _, folder, _ = default_render
    rate, audio = _decode_audio(folder / MP4, ffmpeg_exe)
    speech = inputs["sentences"][0]
    before = audio[int(0.1 * rate) : int((LEAD_SILENCE_S - 0.15) * rate)]
    during = audio[int((speech.start_s + 0.3) * rate) : int((speech.end_s - 0.1) * rate)]
    for tone in (330, 550):  # the source clip's tone and the music's
        quiet, loud = _tone_level(before, rate, tone), _tone_level(during, rate, tone)
        assert quiet > 1e-4, f"{tone} Hz missing before the voice starts"
        assert 20 * math.log10(quiet / loud) >= 6, f"{tone} Hz not ducked: {quiet} vs {loud}"


def test_speech_is_in_sync_with_the_picture(plain_render, inputs, ffmpeg_exe):
    _, folder, _ = plain_render
    rate, audio = _decode_audio(folder / MP4, ffmpeg_exe)
    assert abs(_onset(audio, rate) - inputs["speech_onset"]) <= 0.040


def test_file_is_under_the_cap_and_reports_its_ceiling(default_render):
    manifest, folder, result = default_render
    assert (folder / MP4).stat().st_size <= 30 * 2**20
    assert manifest.video_ceiling_kbps and manifest.video_ceiling_kbps > 1000
    metadata = result.asset_materializations_for_node("composite")[0].metadata
    assert metadata["encoder"].value in ("libx264", "h264_nvenc")
    # Small enough for the UI to show inline (it folds Markdown of 1,000 characters or more).
    assert metadata["thumbnail"].value.startswith("![thumbnail](data:image/avif;base64,")
    assert len(metadata["thumbnail"].value) < 1000


def test_a_tight_cap_is_met_in_one_encode(tmp_path, inputs, default_render):
    cap = 300 * 1024
    _, default_folder, _ = default_render
    assert (default_folder / MP4).stat().st_size > cap  # so the cap really binds
    style = CompositeStyle(max_bytes=cap, min_video_kbps=100, audio_kbps=64)
    manifest, folder, result = render(tmp_path, inputs, style)
    assert result.success
    assert (folder / MP4).stat().st_size <= cap
    assert manifest.video_ceiling_kbps < 400


def test_an_impossible_cap_fails_with_what_to_do(tmp_path, inputs):
    style = CompositeStyle(max_bytes=2**20, min_video_kbps=2000)
    _, _, result = render(tmp_path, inputs, style)
    assert not result.success
    message = str(result.failure_data_for_node("composite").user_failure_data.description)
    assert "cannot fit in 1 MiB" in message and "shorten the script" in message


def test_subtitles_appear_at_their_times_and_the_srt_matches(default_render, plain_render, inputs, ffmpeg_exe):
    manifest, folder, _ = default_render
    _, plain_folder, _ = plain_render
    assert manifest.subtitles_burned and manifest.srt_file == SRT
    cues = _parse_srt((folder / SRT).read_text(encoding="utf-8"))
    assert [(c[0], c[1]) for c in cues] == [
        (pytest.approx(s.start_s, abs=0.001), pytest.approx(s.end_s, abs=0.001)) for s in inputs["sentences"]
    ]
    assert [c[2] for c in cues] == [s.text for s in inputs["sentences"]]
    width, height = 1080, 1920
    for sentence in inputs["sentences"]:
        at = (sentence.start_s + sentence.end_s) / 2
        band = _band_difference(folder / MP4, plain_folder / MP4, at, width, height, ffmpeg_exe)
        assert band > 8, f"no subtitle at {at:.2f} s"
    # Before the first sentence nothing is drawn.
    assert _band_difference(folder / MP4, plain_folder / MP4, 0.3, width, height, ffmpeg_exe) < 2


@pytest.mark.parametrize(
    ("aspect", "layout", "size"),
    [
        ("16:9", "pip", (1920, 1080)),
        ("1:1", "pip", (1080, 1080)),
        ("9:16", "split", (1080, 1920)),
        ("9:16", "full", (1080, 1920)),
    ],
)
def test_every_preset_and_layout_has_its_resolution(tmp_path, inputs, ffmpeg_exe, aspect, layout, size):
    style = CompositeStyle(aspect=aspect, layout=layout, background_fit="blur" if layout == "full" else "cover")
    manifest, folder, result = render(tmp_path, inputs, style)
    assert result.success
    info = probe(folder / MP4, ffmpeg_exe)
    assert (info.video.width, info.video.height) == size
    assert (manifest.width, manifest.height) == size
    assert (folder / THUMBNAIL).read_bytes()[:4] == b"\x89PNG"


def test_a_row_overrides_the_layout(tmp_path, inputs):
    manifest, _, result = render(tmp_path, inputs, CompositeStyle(subtitles=False), layout="split")
    assert result.success and manifest.layout == "split"
    _, _, bad = render(tmp_path / "bad", inputs, CompositeStyle(aspect="16:9"), layout="split")
    assert "needs the 9:16 aspect" in bad.failure_data_for_node("composite").user_failure_data.description


def test_hostile_subtitle_text_does_not_break_the_graph(tmp_path, inputs, ffmpeg_exe):
    nasty = [
        "He said: \"50% off\" at 10:30, isn't it? C:\\temp\\new {\\b1}bold{\\b0} [x];y,z 'q' \\N no break",
        "Tab\there, bell\x07, newline\nand %{pts} = $HOME `ls`",
    ]
    sentences = [
        SentenceTiming(index=i, text=text, start_s=s.start_s, end_s=s.end_s)
        for i, (text, s) in enumerate(zip(nasty, inputs["sentences"], strict=False))
    ]
    manifest, folder, result = render(tmp_path, inputs, CompositeStyle(), sentences=sentences)
    assert result.success and manifest.subtitles_burned
    srt = (folder / SRT).read_text(encoding="utf-8")
    assert 'He said: "50% off" at 10:30' in srt and "{\\b1}bold{\\b0}" in srt and "\x07" not in srt
    ass = (folder / "subtitles.ass").read_text(encoding="utf-8")
    assert "\\{\\\u2060b1\\}" in ass  # the override block is shown as text, not applied


def test_a_script_no_font_can_write_keeps_the_srt_and_says_what_to_do(tmp_path, inputs):
    sentences = [SentenceTiming(index=0, text="大家好，ሰላም።", start_s=0.8, end_s=3.0)]  # Chinese and Amharic
    manifest, folder, result = render(tmp_path, inputs, CompositeStyle(), sentences=sentences)
    assert result.success
    assert not manifest.subtitles_burned and manifest.srt_file == SRT
    assert "大家好" in (folder / SRT).read_text(encoding="utf-8")
    warnings = result.asset_materializations_for_node("composite")[0].metadata["warnings"].value
    assert "Noto Sans CJK SC lacks" in warnings and "ሰ" in warnings and "SUBTITLE_FONT" in warnings


def test_chinese_is_burned_in_with_the_bundled_font_and_no_setting(tmp_path, inputs, plain_render, ffmpeg_exe):
    first = inputs["sentences"][0]
    text = "大家好🎉，欢迎来到我们的频道：今天讲三个技巧，价格只要4999元。"
    sentences = [SentenceTiming(index=0, text=text, start_s=first.start_s, end_s=first.end_s)]
    manifest, folder, result = render(tmp_path, inputs, CompositeStyle(), sentences=sentences)
    assert result.success and manifest.subtitles_burned
    ass = (folder / "subtitles.ass").read_text(encoding="utf-8")
    assert ",Noto Sans CJK SC," in ass and "🎉" not in ass and "4999元" in ass
    assert text in (folder / SRT).read_text(encoding="utf-8")  # the sidecar keeps the script as written
    warnings = result.asset_materializations_for_node("composite")[0].metadata["warnings"].value
    assert "leave out 🎉" in warnings
    _, plain_folder, _ = plain_render
    at = (first.start_s + first.end_s) / 2
    assert _band_difference(folder / MP4, plain_folder / MP4, at, 1080, 1920, ffmpeg_exe) > 8


def test_a_configured_font_comes_before_the_bundled_ones(tmp_path, inputs):
    # matplotlib's LastResort font has a (placeholder) glyph for every code point, CJK included.
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf"
    sentences = [SentenceTiming(index=0, text="大家好，欢迎。", start_s=0.8, end_s=3.0)]
    manifest, folder, result = render(tmp_path, inputs, CompositeStyle(subtitle_font=str(font)), sentences=sentences)
    assert result.success and manifest.subtitles_burned
    assert ",Last Resort High-Efficiency," in (folder / "subtitles.ass").read_text(encoding="utf-8")


# --- helpers -----------------------------------------------------------------------------------


def _read_wav(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as wf:
        return wf.getframerate(), np.frombuffer(wf.readframes(wf.getnframes()), "<i2")


def _decode_audio(path: Path, ffmpeg: str) -> tuple[int, np.ndarray]:
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return 48000, np.frombuffer(raw, "<i2")


def _onset(samples: np.ndarray, rate: int) -> float:
    """First 5 ms window louder than -30 dB of the peak window."""
    window = max(1, rate // 200)
    frames = samples[: len(samples) // window * window].astype(np.float64).reshape(-1, window)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float(np.argmax(rms > rms.max() * 10 ** (-30 / 20)) * window / rate)


def _tone_level(samples: np.ndarray, rate: int, frequency: float) -> float:
    x = samples.astype(np.float64) / 32768
    t = np.arange(len(x)) / rate
    return float(abs(np.dot(x, np.exp(-2j * np.pi * frequency * t))) / len(x))


def _loudness(path: Path, ffmpeg: str) -> tuple[float, float]:
    log = subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-map",
            "0:a",
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    integrated = float(re.findall(r"I:\s*(-?[\d.]+) LUFS", log)[-1])
    peak = float(re.findall(r"Peak:\s*(-?[\d.]+) dBFS", log)[-1])
    return integrated, peak


def _frame(path: Path, at: float, width: int, height: int, ffmpeg: str) -> np.ndarray:
    raw = subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-ss",
            f"{at:.3f}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width).astype(np.int16)


def _band_difference(a: Path, b: Path, at: float, width: int, height: int, ffmpeg: str) -> float:
    """Mean absolute difference of the two videos' frames at ``at`` in the band subtitles are drawn in."""
    top, bottom = int(height * 0.45), int(height * 0.62)
    return float(np.abs(_frame(a, at, width, height, ffmpeg) - _frame(b, at, width, height, ffmpeg))[top:bottom].mean())


def _parse_srt(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        _number, times, *lines = block.splitlines()
        start, end = (_srt_seconds(part.strip()) for part in times.split("-->"))
        cues.append((start, end, " ".join(lines)))
    return cues


def _srt_seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.split(":")
    seconds, millis = rest.split(",")
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000
