"""The lite CPU avatar renderer, end to end: real Piper speech, the real portrait, real ffmpeg."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from talking_head_dagster.avatar.face import analyse_face
from talking_head_dagster.avatar.lite import LitePortrait, LiteRenderer, LiteRenderStats
from talking_head_dagster.avatar.mouth import frame_count, mouth_openness, openness_from_samples, read_wav
from talking_head_dagster.errors import PermanentInputError
from tests.avatar.conftest import decode_gray

FPS = 25
SIZE = 512

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def renderer() -> LiteRenderer:
    return LiteRenderer(size=SIZE, fps=FPS)


@pytest.fixture(scope="session")
def prepared(renderer: LiteRenderer, portrait: Path) -> LitePortrait:
    return renderer.prepare(portrait)


@dataclass(frozen=True)
class Spoken:
    """The portrait rendered speaking the two sentences."""

    path: Path
    stats: LiteRenderStats
    frames: np.ndarray  # decoded grey frames
    progress: list[tuple[int, int]]


@pytest.fixture(scope="session")
def spoken(renderer: LiteRenderer, portrait: Path, speech_wav: Path, ffmpeg: str, tmp_path_factory) -> Spoken:
    out = tmp_path_factory.mktemp("spoken") / "avatar.mp4"
    calls: list[tuple[int, int]] = []
    stats = renderer.render(portrait, speech_wav, out, ffmpeg, progress=lambda d, t: calls.append((d, t)))
    return Spoken(out, stats, decode_gray(ffmpeg, out, SIZE, SIZE), calls)


# --------------------------------------------------------------------------- helpers


def decoded_audio_seconds(ffmpeg: str, mp4: Path, rate: int = 22050) -> float:
    cmd = [ffmpeg, "-v", "error", "-i", str(mp4), "-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return len(raw) / 2 / rate


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wf:
        return wf.getnframes() / wf.getframerate()


def change_vs_reference(frames: np.ndarray, reference: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Per frame, the RMS grey difference of ``box`` against the reference, at the best shift.

    The head sways by a few pixels, so each frame is aligned to the reference by template
    matching within +-8 px before the difference is taken.
    """
    x0, y0, x1, y1 = box
    m = 8
    template = reference[y0:y1, x0:x1].astype(np.float32)
    out = []
    for frame in frames:
        pad = cv2.copyMakeBorder(frame, m, m, m, m, cv2.BORDER_REPLICATE).astype(np.float32)
        search = pad[y0 : y1 + 2 * m, x0 : x1 + 2 * m]
        sqdiff = cv2.matchTemplate(search, template, cv2.TM_SQDIFF)
        out.append(math.sqrt(float(sqdiff.min()) / template.size))
    return np.array(out)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def audio_rms_per_frame(path: Path, fps: int) -> np.ndarray:
    """A plain per-frame RMS of the speech, independent of the renderer's envelope."""
    x, rate = read_wav(path)
    n = frame_count(len(x), rate, fps)
    edges = (np.arange(n + 1) * rate) // fps
    return np.array([np.sqrt(np.mean(x[a:b] ** 2)) if b > a else 0.0 for a, b in itertools.pairwise(edges)])


# --------------------------------------------------------------------------- speech render


def test_frame_count_is_ceil_of_duration(spoken: Spoken, speech_wav: Path) -> None:
    stats, frames = spoken.stats, spoken.frames
    expected = math.ceil(wav_seconds(speech_wav) * FPS)
    assert stats.frames == expected
    assert len(frames) == expected
    assert (stats.width, stats.height, stats.fps) == (SIZE, SIZE, FPS)
    assert stats.duration_s == pytest.approx(wav_seconds(speech_wav))
    assert 0.15 < stats.mean_openness < 0.8


def test_audio_is_kept_whole(spoken: Spoken, speech_wav: Path, ffmpeg: str) -> None:
    out = spoken.path
    assert decoded_audio_seconds(ffmpeg, out) == pytest.approx(wav_seconds(speech_wav), abs=0.05)
    assert [p.name for p in out.parent.iterdir()] == [out.name], "temporary files left behind"


def test_progress_is_reported(spoken: Spoken) -> None:
    stats, calls = spoken.stats, spoken.progress
    assert calls, "no progress reported"
    assert calls[-1] == (stats.frames, stats.frames)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_mouth_moves_with_the_speech(spoken: Spoken, prepared: LitePortrait, speech_wav: Path) -> None:
    frames = spoken.frames
    reference = cv2.cvtColor(prepared.reference, cv2.COLOR_BGR2GRAY)
    change = change_vs_reference(frames, reference, prepared.mouth_box)
    envelope = mouth_openness(speech_wav, FPS)
    shuffled = np.random.default_rng(7).permutation(envelope)
    r_envelope = pearson(change, envelope)
    r_shuffled = pearson(change, shuffled)
    r_rms = pearson(change, audio_rms_per_frame(speech_wav, FPS))
    print(f"lip sync: r(envelope)={r_envelope:.3f} r(shuffled)={r_shuffled:.3f} r(raw RMS)={r_rms:.3f}")
    assert r_envelope >= 0.6
    assert abs(r_shuffled) < 0.3
    assert r_rms >= 0.5
    # The open mouth is a clear change, not a flicker.
    assert change.max() > 3 * np.percentile(change, 5)


def test_eyes_blink(spoken: Spoken, prepared: LitePortrait) -> None:
    frames = spoken.frames
    reference = cv2.cvtColor(prepared.reference, cv2.COLOR_BGR2GRAY)
    for box in prepared.eye_boxes:
        change = change_vs_reference(frames, reference, box)
        assert change.max() > 2.5 * np.median(change), "no visible blink"


# --------------------------------------------------------------------------- silence


def test_silence_keeps_the_mouth_closed(
    renderer: LiteRenderer,
    portrait: Path,
    prepared: LitePortrait,
    silent_wav: Path,
    ffmpeg: str,
    spoken: Spoken,
    tmp_path: Path,
) -> None:
    stats = renderer.render(portrait, silent_wav, tmp_path / "silent.mp4", ffmpeg)
    assert stats.frames == FPS
    assert stats.mean_openness == 0.0
    frames = decode_gray(ffmpeg, tmp_path / "silent.mp4", SIZE, SIZE)
    reference = cv2.cvtColor(prepared.reference, cv2.COLOR_BGR2GRAY)
    silent_change = change_vs_reference(frames, reference, prepared.mouth_box)
    speech_change = change_vs_reference(spoken.frames, reference, prepared.mouth_box)
    print(f"mouth change: silence max {silent_change.max():.2f}, speech max {speech_change.max():.2f}")
    # Only the sub-pixel sway (resampling) and the encoder remain: far below an open mouth.
    assert silent_change.max() < 0.25 * speech_change.max()


def test_silence_without_idle_motion_matches_the_reference(
    portrait: Path, prepared: LitePortrait, silent_wav: Path, ffmpeg: str, tmp_path: Path
) -> None:
    still = LiteRenderer(size=SIZE, fps=FPS, idle_motion=False)
    still.render(portrait, silent_wav, tmp_path / "still.mp4", ffmpeg)
    frames = decode_gray(ffmpeg, tmp_path / "still.mp4", SIZE, SIZE).astype(np.float32)
    reference = cv2.cvtColor(prepared.reference, cv2.COLOR_BGR2GRAY).astype(np.float32)
    x0, y0, x1, y1 = prepared.mouth_box
    rms = np.sqrt(((frames[:, y0:y1, x0:x1] - reference[y0:y1, x0:x1]) ** 2).mean(axis=(1, 2)))
    print(f"still mouth RMS vs reference: max {rms.max():.2f}")
    assert rms.max() < 4.0  # the encoder's loss only


def test_openness_of_silence_is_zero() -> None:
    assert not openness_from_samples(np.zeros(22050, np.float32), 22050, FPS).any()


def test_frame_count_is_exact() -> None:
    assert frame_count(22050, 22050, 25) == 25
    assert frame_count(22051, 22050, 25) == 26
    assert frame_count(0, 22050, 25) == 0
    assert len(openness_from_samples(np.zeros(22051, np.float32), 22050, 25)) == 26


def test_mouth_closes_in_pauses() -> None:
    """A burst of band-limited noise, a pause, another burst: open, closed, open."""
    rate = 16000
    rng = np.random.default_rng(0)
    burst = np.sin(2 * np.pi * 700 * np.arange(rate // 2) / rate) * 0.3 * (1 + 0.1 * rng.standard_normal(rate // 2))
    x = np.concatenate([burst, np.zeros(rate // 2), burst]).astype(np.float32)
    o = openness_from_samples(x, rate, FPS)
    assert len(o) == 38
    assert o[5:10].min() > 0.5
    assert o[19:24].max() < 0.06
    assert o[21:24].max() == 0.0
    assert o[30:35].min() > 0.5


# --------------------------------------------------------------------------- portraits


def test_no_face_is_a_permanent_error(renderer: LiteRenderer, silent_wav: Path, ffmpeg: str, tmp_path: Path) -> None:
    gray = tmp_path / "gray.png"
    cv2.imwrite(str(gray), np.full((480, 480, 3), 128, np.uint8))
    with pytest.raises(PermanentInputError, match=re.compile("no face", re.IGNORECASE)):
        renderer.render(gray, silent_wav, tmp_path / "out.mp4", ffmpeg)
    assert not (tmp_path / "out.mp4").exists()


def test_tiny_face_is_a_permanent_error(renderer: LiteRenderer, portrait: Path, tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), cv2.resize(cv2.imread(str(portrait)), (60, 70), interpolation=cv2.INTER_AREA))
    with pytest.raises(PermanentInputError, match=r"too small|[Nn]o face"):
        renderer.prepare(tiny)


def test_face_analysis_is_cached_on_disk(portrait: Path, tmp_path: Path) -> None:
    first = analyse_face(portrait, cache_dir=tmp_path)
    cached = list(tmp_path.glob("*.npz"))
    assert len(cached) == 1
    again = analyse_face(portrait, cache_dir=tmp_path)
    assert np.array_equal(first.landmarks, again.landmarks)
    assert first.box == again.box
    assert first.face_height >= 150  # the default portrait's face is about 200 px high


def test_unreadable_portrait_is_a_permanent_error(renderer: LiteRenderer, tmp_path: Path) -> None:
    bad = tmp_path / "portrait.jpg"
    bad.write_bytes(b"this is not a picture")
    with pytest.raises(PermanentInputError, match="could not be read as an image"):
        renderer.prepare(bad)


@pytest.mark.parametrize("kind", ["rgba", "grayscale"])
def test_rgba_and_grayscale_portraits_render(
    kind: str, portrait: Path, silent_wav: Path, ffmpeg: str, tmp_path: Path
) -> None:
    image = cv2.imread(str(portrait))
    if kind == "rgba":
        converted = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
        converted[:40, :, 3] = 0  # a transparent band, composited over white
    else:
        converted = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    path = tmp_path / f"{kind}.png"
    cv2.imwrite(str(path), converted)
    stats = LiteRenderer(size=256).render(path, silent_wav, tmp_path / "out.mp4", ffmpeg)
    frames = decode_gray(ffmpeg, tmp_path / "out.mp4", 256, 256)
    assert stats.frames == len(frames) == FPS
    assert frames.std() > 20  # a picture, not a blank


def test_ffmpeg_failure_raises_with_its_message(portrait: Path, silent_wav: Path, ffmpeg: str, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="ffmpeg"):
        LiteRenderer(size=256, preset="no-such-preset").render(portrait, silent_wav, out, ffmpeg)
    assert list(tmp_path.iterdir()) == [], "output or temporary file left behind"
