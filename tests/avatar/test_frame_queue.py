"""The queue between the renderer and the encoder: order, back-pressure, and errors from either side."""

import sys
import threading
import time
import traceback

import numpy as np
import pytest

from talking_head_dagster.avatar.frame_queue import queued_sink


def frame(index: int) -> np.ndarray:
    return np.full((2, 2, 3), index, np.uint8)


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "frame-writer"]


def test_every_frame_reaches_the_sink_in_order_and_on_another_thread() -> None:
    written: list[int] = []
    threads: set[str] = set()

    def sink(f: np.ndarray) -> None:
        threads.add(threading.current_thread().name)
        written.append(int(f[0, 0, 0]))

    with queued_sink(sink, max_frames=4) as put:
        for i in range(50):
            put(frame(i))
    assert written == list(range(50))
    assert threads == {"frame-writer"}
    assert not writer_threads()


def test_the_renderer_waits_once_it_is_max_frames_ahead_of_a_slow_encoder() -> None:
    release, fourth_put, fifth_put = threading.Event(), threading.Event(), threading.Event()
    taken: list[int] = []

    def sink(f: np.ndarray) -> None:
        taken.append(int(f[0, 0, 0]))
        assert release.wait(timeout=30)

    def render() -> None:
        with queued_sink(sink, max_frames=3) as put:
            for i in range(10):
                put(frame(i))
                (fourth_put if i == 3 else fifth_put if i == 4 else threading.Event()).set()

    renderer = threading.Thread(target=render)
    renderer.start()
    # One frame is in the sink and three are queued: the fifth put cannot go through while the sink holds.
    assert fourth_put.wait(timeout=30)
    assert not fifth_put.wait(timeout=0.5)
    assert taken == [0]
    release.set()
    renderer.join(timeout=30)
    assert fifth_put.is_set() and taken == list(range(10))


def test_an_encoder_error_is_raised_in_the_renderer_and_stops_it() -> None:
    written: list[int] = []

    def sink(f: np.ndarray) -> None:
        if int(f[0, 0, 0]) == 3:
            raise RuntimeError("ffmpeg stopped reading frames: disk full")
        written.append(int(f[0, 0, 0]))

    put_count = 0
    with pytest.raises(RuntimeError, match="disk full"), queued_sink(sink, max_frames=2) as put:
        for i in range(1000):
            put(frame(i))
            put_count += 1
    assert written == [0, 1, 2]
    assert put_count < 1000  # the renderer stopped early instead of rendering into the void
    assert not writer_threads()


def test_an_encoder_error_on_the_last_frames_is_raised_on_leaving() -> None:
    def sink(f: np.ndarray) -> None:
        if int(f[0, 0, 0]) == 4:
            raise RuntimeError("ffmpeg exited with status 1")

    with pytest.raises(RuntimeError, match="status 1"), queued_sink(sink, max_frames=8) as put:
        for i in range(5):
            put(frame(i))
    assert not writer_threads()


def _wait_until_main_thread_joins(timeout: float) -> None:
    """Return once the main thread waits in ``Thread.join`` (the queue's clean-up after an error)."""
    main, frames = threading.main_thread().ident, []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frames = traceback.extract_stack(sys._current_frames()[main])
        if any(f.name == "join" and f.filename == threading.__file__ for f in frames):
            return
        time.sleep(0.001)
    raise AssertionError(f"the main thread never joined the writer: {frames[-3:]}")


def test_a_renderer_error_stops_the_writer_and_goes_through_unchanged() -> None:
    """The writer, busy with frame 1 when the renderer fails, writes nothing after it (14 frames stay queued)."""
    written: list[int] = []
    holding = threading.Event()

    def sink(f: np.ndarray) -> None:
        if int(f[0, 0, 0]) == 1:
            holding.set()
            _wait_until_main_thread_joins(timeout=30)
        written.append(int(f[0, 0, 0]))

    class ModelFailed(Exception):
        pass

    with pytest.raises(ModelFailed, match="CUDA out of memory"), queued_sink(sink, max_frames=16) as put:
        for i in range(16):
            put(frame(i))
        assert holding.wait(timeout=30)
        raise ModelFailed("CUDA out of memory")
    assert not writer_threads()
    assert written == [0, 1]


def test_max_frames_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"), queued_sink(lambda f: None, max_frames=0):
        pass
