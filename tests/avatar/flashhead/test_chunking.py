"""Upstream's streaming arithmetic, and the padding and trimming that keep the last words."""

import math
from fractions import Fraction

import numpy as np
import pytest

from talking_head_dagster.avatar.flashhead.chunking import AudioWindow, StreamPlan
from talking_head_dagster.avatar.mouth import frame_count

# What upstream's parameters give once get_pipeline has set motion_frames_num.
LITE = StreamPlan(sample_rate=16000, fps=25, frame_num=33, motion_frames=9, window_s=8)
PRO = StreamPlan(sample_rate=16000, fps=25, frame_num=33, motion_frames=5, window_s=8)


def test_the_plan_reads_upstreams_parameters() -> None:
    params = {"frame_num": 33, "tgt_fps": 25, "sample_rate": 16000, "cached_audio_duration": 8, "motion_frames_num": 9}
    assert StreamPlan.from_infer_params(params) == LITE
    with pytest.raises(ValueError, match="motion_frames_num"):
        StreamPlan.from_infer_params({k: v for k, v in params.items() if k != "motion_frames_num"})


def test_lite_and_pro_chunk_sizes() -> None:
    # Lite: 24 new frames (0.96 s) per call; Pro: 28 (1.12 s). Each call embeds the window's last 33 frames.
    assert (LITE.new_frames, LITE.chunk_samples) == (24, 24 * 640)
    assert (PRO.new_frames, PRO.chunk_samples) == (28, 28 * 640)
    assert LITE.window_samples == 8 * 16000 and LITE.embedding_range == (167, 200)


@pytest.mark.parametrize("plan", [LITE, PRO], ids=["lite", "pro"])
@pytest.mark.parametrize("seconds", [0.01, 0.5, 0.96, 0.97, 1.12, 2.3, 7.99, 8.0, 8.5, 20.03])
def test_padding_covers_every_sample_and_no_more_than_one_chunk(plan: StreamPlan, seconds: float) -> None:
    n = round(seconds * 22050)
    frames = frame_count(n, 22050, plan.fps)
    assert frames == math.ceil(Fraction(n * 25, 22050))  # exact: floats round 28.000...01 up to 29
    audio = np.linspace(-1, 1, round(n * 16000 / 22050), dtype=np.float32)
    chunks = list(plan.chunks(audio, frames))

    # Enough calls for every frame, and not one more.
    assert len(chunks) == plan.chunks_for(frames)
    assert (len(chunks) - 1) * plan.new_frames < frames <= len(chunks) * plan.new_frames
    # The speech is all there, in order, followed by silence only.
    joined = np.concatenate(chunks)
    assert np.array_equal(joined[: len(audio)], audio)
    assert not joined[len(audio) :].any()
    assert all(len(chunk) == plan.chunk_samples for chunk in chunks)


def test_the_original_integration_lost_the_tail_this_plan_keeps() -> None:
    # 2.3 s of speech: whole chunks only (the original integration) make 48 frames, 1.92 s:
    # the last 0.38 s of speech was never animated. The padded plan makes 58 = ceil(2.3 * 25).
    audio = np.ones(round(2.3 * 16000), np.float32)
    frames = frame_count(round(2.3 * 22050), 22050, 25)
    clipped_frames = len(audio) // LITE.chunk_samples * LITE.new_frames
    assert (clipped_frames, frames) == (48, 58)
    chunks = list(LITE.chunks(audio, frames))
    assert len(chunks) == 3 and chunks[-1][: len(audio) - 2 * LITE.chunk_samples].all()


def test_resampling_surplus_past_the_last_frame_is_cut() -> None:
    # A resampler may return a sample or two more than the frames hold: still whole chunks.
    frames = 24
    audio = np.ones(24 * 640 + 3, np.float32)
    assert [len(c) for c in LITE.chunks(audio, frames)] == [LITE.chunk_samples]


def test_the_window_starts_silent_and_slides() -> None:
    window = AudioWindow(10)
    first = window.push(np.array([1, 2, 3], np.float32))
    assert first.tolist() == [0] * 7 + [1, 2, 3]
    second = window.push(np.array([4, 5], np.float32))
    assert second.tolist() == [0] * 5 + [1, 2, 3, 4, 5]
    assert first.tolist() == [0] * 7 + [1, 2, 3]  # an earlier window is not changed by later pushes
    for value in range(6, 20):
        last = window.push(np.array([value], np.float32))
    assert last.tolist() == list(range(10, 20))
    with pytest.raises(ValueError, match="does not fit"):
        window.push(np.zeros(11, np.float32))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sample_rate": 16001}, "whole number of samples"),
        ({"motion_frames": 33}, "motion_frames"),
        ({"window_s": 1}, "shorter than 33 frames"),
    ],
)
def test_plans_upstream_could_not_stream_are_refused(changes: dict, message: str) -> None:
    values = {"sample_rate": 16000, "fps": 25, "frame_num": 33, "motion_frames": 9, "window_s": 8} | changes
    with pytest.raises(ValueError, match=message):
        StreamPlan(**values)
