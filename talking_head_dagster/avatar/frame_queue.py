"""Handing frames to the encoder on a thread of its own, so the GPU renders the next chunk meanwhile.

Writing a chunk of frames into FFmpeg's pipe blocks until the encoder has taken them; done in the
rendering thread, the GPU idles for that time after every chunk. ``queued_sink`` puts a bounded
queue and one writer thread between the two: the renderer blocks only when it is ``max_frames``
ahead of the encoder. Both sides spend their waits outside the GIL (CUDA synchronisation, pipe
writes), so the overlap is real. Errors cross over: a failed write is raised to the renderer at
its next frame (or on leaving), and an error in the renderer stops the writer before it is raised.
"""

import contextlib
import queue
import threading
from collections.abc import Iterator

import numpy as np

from talking_head_dagster.avatar.encode import FrameSink

_DONE = object()
_POLL_S = 0.1  # how often a blocked side looks whether the other one failed


@contextlib.contextmanager
def queued_sink(sink: FrameSink, max_frames: int) -> Iterator[FrameSink]:
    """Yield a sink that queues frames for ``sink``, which a writer thread calls in order.

    Steps:
      1. start the writer thread: it takes frames off the queue and calls ``sink``;
      2. the body puts frames, waiting while ``max_frames`` are queued (or raising the writer's error);
      3. on leaving normally: mark the end, wait for every frame to be written, raise a writer error;
      4. on an error in the body: tell the writer to stop, wait for it, and let the error through.
    """
    if max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, not {max_frames}")
    frames: queue.Queue = queue.Queue(maxsize=max_frames)
    stop = threading.Event()
    failure: list[BaseException] = []

    def write_all() -> None:
        while not stop.is_set():
            try:
                frame = frames.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if frame is _DONE:
                return
            try:
                sink(frame)
            except BaseException as exc:  # handed to the renderer's thread, which raises it
                failure.append(exc)
                return

    def put(frame: np.ndarray) -> None:
        while True:
            if failure:
                raise failure[0]
            try:
                frames.put(frame, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    # 1. Writer.
    writer = threading.Thread(target=write_all, name="frame-writer", daemon=True)
    writer.start()
    try:
        # 2. Body.
        yield put
    except BaseException:
        # 4. Stop the writer; the body's error goes on.
        stop.set()
        writer.join()
        raise
    # 3. Drain.
    while writer.is_alive():
        try:
            frames.put(_DONE, timeout=_POLL_S)
            break
        except queue.Full:
            continue
    writer.join()
    if failure:
        raise failure[0]
