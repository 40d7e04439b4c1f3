"""The flashhead renderer: a portrait speaking a WAV, as a square H.264/AAC MP4, on the GPU."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from talking_head_dagster.avatar.encode import avatar_mp4
from talking_head_dagster.avatar.flashhead.audio import load_speech, speech_frames
from talking_head_dagster.avatar.flashhead.loader import LoadedPipeline, load_pipeline
from talking_head_dagster.avatar.flashhead.machine import Machine
from talking_head_dagster.avatar.flashhead.options import FlashHeadOptions
from talking_head_dagster.avatar.flashhead.stream import stream_frames
from talking_head_dagster.avatar.frame_queue import queued_sink
from talking_head_dagster.errors import PermanentInputError

# Chunks of frames the renderer may be ahead of the encoder (2 x 24 frames of 512x512 RGB: 38 MB).
ENCODER_QUEUE_CHUNKS = 2


@dataclass(frozen=True)
class FlashHeadStats:
    frames: int
    fps: int
    width: int
    height: int
    duration_s: float
    render_seconds: float
    chunks: int
    model_type: str
    attention: str


class FlashHeadRenderer:
    """Renders with SoulX-FlashHead; the pipeline is loaded on the first render of the process and kept.

    ``machine`` answers the preflight's questions about the GPU and the installed packages (this
    machine by default; tests stand one in); the checkout and weight checks run as in production.
    """

    def __init__(self, options: FlashHeadOptions, machine: Machine | None = None) -> None:
        self.options = options
        self.machine = machine

    def load(self) -> LoadedPipeline:
        """Preflight and load (once per process); raises DeploymentError before any work."""
        return load_pipeline(self.options, self.machine)

    def render(
        self,
        portrait: Path,
        speech_wav: Path,
        out_mp4: Path,
        ffmpeg: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> FlashHeadStats:
        """Render ``portrait`` speaking ``speech_wav`` into ``out_mp4``.

        Steps:
          1. The pipeline (preflight and load on the first render of the process).
          2. The portrait, seed and face crop (upstream's ``get_base_data``; it also resets the
             motion state and the random generator, so every render starts alike).
          3. The speech at 16 kHz, and the frame count ``ceil(duration * fps)``.
          4. Chunk by chunk, frames into ffmpeg through a queue, so encoding overlaps the next chunk's
             rendering; ``out_mp4`` appears only once ffmpeg succeeded.
        """
        started = time.perf_counter()
        # 1. Pipeline.
        loaded = self.load()
        plan = loaded.plan
        # 2. Portrait.
        if not Path(portrait).is_file():
            raise PermanentInputError(f"The portrait {portrait} does not exist.")
        loaded.inference.get_base_data(
            loaded.pipeline,
            cond_image_path_or_dir=str(portrait),
            base_seed=self.options.seed,
            use_face_crop=self.options.face_crop,
        )
        # 3. Speech.
        frames, duration = speech_frames(speech_wav, plan.fps)
        audio = load_speech(ffmpeg, speech_wav, plan.sample_rate)
        # 4. Frames into the MP4, encoded on another thread while the GPU renders the next chunk.
        written = 0
        with (
            avatar_mp4(ffmpeg, out_mp4, speech_wav, pix_fmt="rgb24", size=loaded.size, fps=plan.fps) as encode,
            queued_sink(encode, max_frames=ENCODER_QUEUE_CHUNKS * plan.new_frames) as write,
        ):
            for frame in stream_frames(loaded.inference, loaded.pipeline, plan, audio, frames):
                write(frame)
                written += 1
                if progress is not None and (written % plan.new_frames == 0 or written == frames):
                    progress(written, frames)
        return FlashHeadStats(
            frames=written,
            fps=plan.fps,
            width=loaded.size,
            height=loaded.size,
            duration_s=duration,
            render_seconds=time.perf_counter() - started,
            chunks=plan.chunks_for(frames),
            model_type=self.options.model_type,
            attention=loaded.attention,
        )
