"""The composite as one FFmpeg filter graph and one encode (built with ffmpeg-python).

Video: the background fitted to the speech (``background.py``) and to its region of the frame
(cover or blurred fill), the avatar placed by the layout (``layout.py``) with its mask and border
(``masks.py``), the subtitles burned in last. Audio: the speech on top, the source's audio and
optional music ducked under it by a sidechain compressor, loudness-normalised. Nothing is
encoded twice: the only other passes are an audio-only loudness measurement and the thumbnail.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from talking_head_dagster.media.background import BackgroundPlan
from talking_head_dagster.media.encoding import VideoEncoding
from talking_head_dagster.media.layout import Box, FrameLayout
from talking_head_dagster.media.loudness import limiter_options
from talking_head_dagster.media.style import CompositeStyle

# Ducking: how far under the voice the background and music go while it speaks.
DUCK = {"threshold": 0.015, "ratio": 12, "attack": 15, "release": 350, "knee": 4}
SAMPLE_RATE = 48000
# The blurred fill is computed at an eighth of the size: a wide blur for a fraction of the cost.
BLUR_DOWNSCALE = 8
SUBTITLE_FILE = "subtitles.ass"
FONTS_DIR = "fonts"


@dataclass(frozen=True)
class CompositeSources:
    """The files a composite is made from. ``subtitles`` is read from the FFmpeg process's directory."""

    background: Path
    background_has_audio: bool
    avatar: Path
    speech: Path
    duration_s: float
    fps: int
    plan: BackgroundPlan
    mask: Path | None = None
    border: Path | None = None
    music: Path | None = None
    subtitles: bool = False

    @property
    def frames(self) -> int:
        """Exactly as many frames as the speech needs: ``ceil(duration x fps)``."""
        return math.ceil(round(self.duration_s * self.fps, 6))

    @property
    def video_s(self) -> float:
        return self.frames / self.fps


def composite_args(
    sources: CompositeSources,
    layout: FrameLayout,
    style: CompositeStyle,
    encoding: VideoEncoding,
    out: Path,
    gain_db: float,
) -> list[str]:
    """FFmpeg arguments that make the finished video in one pass.

    Steps: 1. background fitted in time and to its region; 2. avatar scaled, masked, bordered and
    placed; 3. subtitles burned in; 4. audio mixed and normalised; 5. one encode, cut to the speech.
    """
    # 1. Background.
    background = _background(sources, layout.background, style)
    # 2. Avatar.
    video = _with_avatar(background, sources, layout, style)
    # 3. Subtitles, relative to the working directory so no path needs filter-graph escaping.
    if sources.subtitles:
        video = video.filter("subtitles", filename=SUBTITLE_FILE, fontsdir=FONTS_DIR)
    video = video.filter("format", "yuv420p")
    # 4. Audio.
    audio = _master(_audio(sources, style), gain_db, style).filter("ebur128", peak="true", framelog="quiet")
    # 5. One encode.
    output = ffmpeg.output(
        video,
        audio,
        str(out),
        t=f"{sources.video_s:.3f}",
        vframes=sources.frames,
        **encoding.args(style.crf, style.encoder_preset),
        pix_fmt="yuv420p",
        acodec="aac",
        audio_bitrate=f"{style.audio_kbps}k",
        ar=SAMPLE_RATE,
        ac=2,
        movflags="+faststart",
        f="mp4",
    )
    return output.get_args()


def loudness_args(sources: CompositeSources, style: CompositeStyle, gain_db: float | None) -> list[str]:
    """An audio-only pass that prints the loudness of the mix, raw or through ``gain_db`` and the limiter."""
    audio = _audio(sources, style)
    if gain_db is not None:
        audio = _master(audio, gain_db, style)
    audio = audio.filter("ebur128", peak="true", framelog="quiet")
    return ffmpeg.output(audio, "-", t=f"{sources.duration_s:.3f}", f="null").get_args()


def thumbnail_args(video: Path, at_s: float, out: Path, width: int = 360) -> list[str]:
    """One frame at ``at_s`` scaled to ``width`` px wide, as PNG."""
    frame = ffmpeg.input(str(video), ss=f"{at_s:.3f}").video.filter("scale", width, -2)
    return ffmpeg.output(frame, str(out), vframes=1, f="image2").get_args()


def _background(sources: CompositeSources, region: Box, style: CompositeStyle):
    """The source video, as long as the video and filling ``region``'s size."""
    plan, fps = sources.plan, style.fps
    if plan.mode == "crossfade":
        # One decoder per copy: ffmpeg-python merges identical inputs, so each gets its own queue size.
        # The copies are joined at the source's size and the result is scaled once.
        inputs = [ffmpeg.input(str(sources.background), thread_queue_size=512 + i) for i in range(plan.copies)]
        copies = [_clip(source.video, plan, fps).filter("setsar", 1) for source in inputs]
        joined = copies[0]
        for copy, offset in zip(copies[1:], plan.xfade_offsets(), strict=True):
            joined = ffmpeg.filter([joined, copy], "xfade", transition="fade", duration=plan.crossfade_s, offset=offset)
        return _fit(_exactly(joined, sources.video_s), region, style)
    if plan.mode == "trim":
        return _fit(
            _exactly(_clip(ffmpeg.input(str(sources.background)).video, plan, fps), sources.video_s), region, style
        )
    looped = ffmpeg.input(str(sources.background), stream_loop=-1).video
    if plan.mode == "stretch":
        looped = looped.filter("setpts", f"{plan.stretch:.6f}*PTS")
    return _fit(_exactly(looped.filter("fps", fps), sources.video_s), region, style)


def _exactly(stream, seconds: float):
    """``seconds`` of video: cut, or held on the last frame where the stream is shorter."""
    return stream.filter("tpad", stop_mode="clone", stop_duration=f"{seconds + 1:.3f}").filter(
        "trim", duration=f"{seconds:.3f}"
    )


def _clip(stream, plan: BackgroundPlan, fps: int):
    """One copy of the source at the output's frame rate, exactly ``plan.clip_s`` long."""
    clip = stream.filter("fps", fps).filter("trim", duration=f"{plan.clip_s:.3f}").filter("setpts", "PTS-STARTPTS")
    return _exactly(clip, plan.clip_s)


def _fit(stream, region: Box, style: CompositeStyle):
    """Scale to cover ``region`` and centre-crop, or fit inside it over a blurred cover of itself."""
    width, height = region.width, region.height
    if style.background_fit == "cover":
        fitted = stream.filter("scale", width, height, force_original_aspect_ratio="increase").filter(
            "crop", width, height
        )
        return fitted.filter("setsar", 1).filter("format", "yuv420p")
    halves = stream.filter_multi_output("split", 2)
    fill, front = halves[0], halves[1]
    small_w, small_h = _even(width / BLUR_DOWNSCALE), _even(height / BLUR_DOWNSCALE)
    blurred = (
        fill.filter("scale", small_w, small_h, force_original_aspect_ratio="increase")
        .filter("crop", small_w, small_h)
        .filter("boxblur", luma_radius=6, luma_power=2)
        .filter("scale", width, height)
    )
    inner = front.filter("scale", width, height, force_original_aspect_ratio="decrease")
    fitted = ffmpeg.overlay(blurred, inner, x="(W-w)/2", y="(H-h)/2")
    return fitted.filter("setsar", 1).filter("format", "yuv420p")


def _with_avatar(background, sources: CompositeSources, layout: FrameLayout, style: CompositeStyle):
    """The background with the avatar on it, as the layout says."""
    box = layout.avatar
    avatar = ffmpeg.input(str(sources.avatar)).video.filter("fps", style.fps)
    if layout.background.y > 0:
        # Split: the avatar fills the top half (cropped a little more from the bottom than the top).
        avatar = avatar.filter("scale", box.width, -2).filter("crop", box.width, box.height, 0, "(ih-oh)*0.3")
        return ffmpeg.filter([avatar.filter("setsar", 1).filter("format", "yuv420p"), background], "vstack")
    avatar = avatar.filter("scale", box.width, box.height)
    if sources.mask is not None:
        mask = _still(sources.mask, "gray", sources.video_s, style.fps)
        avatar = ffmpeg.filter([avatar.filter("format", "yuva420p"), mask], "alphamerge")
    video = ffmpeg.overlay(background, avatar, x=box.x, y=box.y, eof_action="repeat")
    if sources.border is not None:
        border = _still(sources.border, "yuva420p", sources.video_s, style.fps)
        video = ffmpeg.overlay(video, border, x=box.x, y=box.y)
    return video


def _still(path: Path, pixel_format: str, duration_s: float, fps: int):
    """An image as a video: decoded and converted once, then repeated in memory.

    (Looping the image at the input, ``-loop 1``, would decode the PNG again for every frame:
    on this project's 2-core benchmark machine that was a third of the filter graph's time.)
    """
    frames = math.ceil(duration_s * fps) + fps
    image = ffmpeg.input(str(path), framerate=fps).video.filter("format", pixel_format)
    return image.filter("loop", loop=frames, size=1, start=0).filter("setpts", "N/FRAME_RATE/TB")


def _audio(sources: CompositeSources, style: CompositeStyle):
    """The speech over the ducked background audio and music, before loudness normalisation."""
    speech = ffmpeg.input(str(sources.speech)).audio.filter(
        "aformat", sample_rates=SAMPLE_RATE, channel_layouts="stereo"
    )
    beds = []
    if sources.background_has_audio and style.background_audio == "duck":
        looped = {} if sources.plan.mode == "trim" else {"stream_loop": -1}
        beds.append((ffmpeg.input(str(sources.background), **looped).audio, style.background_volume_db))
    if sources.music is not None:
        beds.append((ffmpeg.input(str(sources.music), stream_loop=-1).audio, style.music_volume_db))
    if not beds:
        return speech
    copies = speech.filter_multi_output("asplit", len(beds) + 1)
    sidechains = [copies[i + 1] for i in range(len(beds))]
    layers = [copies[0]]
    for (bed, volume_db), sidechain in zip(beds, sidechains, strict=True):
        bed = bed.filter("aformat", sample_rates=SAMPLE_RATE, channel_layouts="stereo").filter(
            "volume", f"{volume_db}dB"
        )
        layers.append(ffmpeg.filter([bed, sidechain], "sidechaincompress", **DUCK))
    return ffmpeg.filter(layers, "amix", inputs=len(layers), duration="first", normalize=0, dropout_transition=0)


def _master(audio, gain_db: float, style: CompositeStyle):
    """One gain to the loudness target, then peaks held under the true-peak ceiling."""
    return audio.filter("volume", f"{gain_db:.2f}dB").filter("alimiter", **limiter_options(style.true_peak_db))


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
