import shutil
import tempfile
from pathlib import Path

import dagster as dg
from pydantic import Field, ValidationError

from talking_head_dagster.assets.avatar_video import avatar_video
from talking_head_dagster.assets.composite_checks import CHECK_SPECS, CompositeFacts, evaluate, failed_blocking
from talking_head_dagster.assets.composite_metadata import composite_metadata, inline_thumbnail
from talking_head_dagster.assets.source_video import source_video
from talking_head_dagster.assets.stage import GROUP, Stopwatch, record_identity, stage_errors
from talking_head_dagster.assets.tts_audio import tts_audio
from talking_head_dagster.errors import PermanentInputError
from talking_head_dagster.manifests import AvatarManifest, CompositeManifest, SourceVideoManifest
from talking_head_dagster.media.background import plan_background
from talking_head_dagster.media.composite import (
    FONTS_DIR,
    SUBTITLE_FILE,
    CompositeSources,
    composite_args,
    loudness_args,
    thumbnail_args,
)
from talking_head_dagster.media.encoding import VideoEncoding, choose_encoder, video_ceiling_kbps
from talking_head_dagster.media.fonts import font_candidates, missing_glyphs, pick_font
from talking_head_dagster.media.layout import FrameLayout, frame_layout
from talking_head_dagster.media.loudness import corrected_gain, first_gain, parse_ebur128
from talking_head_dagster.media.style import LAYOUTS, CompositeStyle
from talking_head_dagster.media.subtitles import SubtitleStyle, clean_text, srt_document, write_subtitles
from talking_head_dagster.partitions import records
from talking_head_dagster.resources.artifact_store import ArtifactStore
from talking_head_dagster.resources.ffmpeg import FFmpegResource
from talking_head_dagster.speech.timing import SpeechManifest

MP4 = "composite.mp4"
SRT = "composite.srt"
THUMBNAIL = "thumbnail.png"


class CompositeConfig(dg.ConfigurableResource):
    """How finished videos look (``media/style.py``) and where user-supplied fonts are (``models/fonts``)."""

    style: CompositeStyle = Field(default_factory=CompositeStyle)
    models_dir: str = "models"


@dg.asset(
    partitions_def=records,
    group_name=GROUP,
    deps=[source_video, tts_audio, avatar_video],
    kinds={"ffmpeg"},
    code_version="2",
    check_specs=CHECK_SPECS,
)
def composite(
    context: dg.AssetExecutionContext,
    artifacts: ArtifactStore,
    ffmpeg: FFmpegResource,
    composite_format: CompositeConfig,
) -> dg.MaterializeResult:
    """The finished vertical video, ready to publish.

    The source video fills the frame as background, looped or trimmed to the length of the speech;
    the talking portrait sits on top (picture-in-picture, split or full frame); the voice plays over
    the source's own sound, lowered while it speaks, at a steady loudness; subtitles are burned in,
    with an .srt file beside the video. One encode keeps it under the size cap. Its checks
    (duration, size, loudness, fast start, subtitles) must pass before it is published.
    """
    # Steps: 1. the row's style and the frame's geometry; 2. masks and subtitle files in a scratch
    # folder; 3. the bitrate ceiling for the size cap and the encoder; 4. loudness measured on the
    # audio alone; 5. the one encode; 6. checks, thumbnail, manifest (not kept if a check fails).
    key = context.partition_key
    watch = Stopwatch()
    with stage_errors(context), tempfile.TemporaryDirectory(prefix="composite-") as scratch:
        source = artifacts.manifest(key, "source_video", SourceVideoManifest)
        speech = artifacts.manifest(key, "tts_audio", SpeechManifest)
        avatar = artifacts.manifest(key, "avatar_video", AvatarManifest)
        staging = artifacts.staging_dir(key, "composite")
        work = Path(scratch)
        # 1. Style and geometry.
        style = _row_style(composite_format.style, source.record.layout)
        layout = frame_layout(style)
        duration = speech.duration_s
        # 2. Masks and subtitles.
        mask, border = _avatar_stills(layout, style, work)
        models_dir = Path(composite_format.models_dir)
        subtitles_burned, warnings = _subtitles(speech, layout, style, models_dir, work, staging)
        sources = CompositeSources(
            background=artifacts.file(key, "source_video", source.file),
            background_has_audio=source.has_audio,
            avatar=artifacts.file(key, "avatar_video", avatar.file),
            speech=artifacts.file(key, "tts_audio", speech.wav_file),
            duration_s=duration,
            fps=style.fps,
            plan=plan_background(source.duration_s, duration + 1 / style.fps, style),
            mask=mask,
            border=border,
            music=_music(style),
            subtitles=subtitles_burned,
        )
        # 3. Size cap and encoder.
        ceiling = video_ceiling_kbps(style.max_bytes, duration, style.audio_kbps, style.min_video_kbps)
        encoding = VideoEncoding(choose_encoder(style.encoder, ffmpeg.exe), ceiling)
        # 4. Loudness: the mix as it is, then through the gain and the limiter.
        raw = parse_ebur128(ffmpeg.run(loudness_args(sources, style, None), log_level="info"))
        gain = first_gain(raw, style.loudness_lufs)
        limited = parse_ebur128(ffmpeg.run(loudness_args(sources, style, gain), log_level="info"))
        gain = corrected_gain(raw, limited, gain, style.loudness_lufs)
        # 5. The one encode, in the scratch folder where the subtitles and fonts are.
        args = composite_args(sources, layout, style, encoding, staging / MP4, gain)
        loudness = parse_ebur128(ffmpeg.run(["-y", *args], cwd=work, log_level="info"))
        # 6. Checks, thumbnail, manifest.
        size = (staging / MP4).stat().st_size
        info = ffmpeg.probe(staging / MP4)
        ffmpeg.run(["-y", *thumbnail_args(staging / MP4, _thumbnail_time(speech), staging / THUMBNAIL)])
        thumbnail = inline_thumbnail(staging / THUMBNAIL, ffmpeg)
        manifest = CompositeManifest(
            file=MP4,
            bytes=size,
            width=layout.width,
            height=layout.height,
            duration_s=info.duration_s or duration,
            encode_seconds=watch.seconds,
            layout=style.layout,
            encoder=encoding.encoder,
            video_ceiling_kbps=ceiling,
            loudness_lufs=loudness.integrated_lufs if loudness else None,
            true_peak_db=loudness.true_peak_db if loudness else None,
            srt_file=SRT if (staging / SRT).exists() else None,
            subtitles_burned=subtitles_burned,
            thumbnail_file=THUMBNAIL,
        )
        checks = evaluate(
            CompositeFacts(
                video=staging / MP4,
                bytes=size,
                cap_bytes=style.max_bytes,
                duration_s=manifest.duration_s,
                speech_duration_s=duration,
                fps=style.fps,
                loudness_lufs=manifest.loudness_lufs,
                target_lufs=style.loudness_lufs,
                subtitles_wanted=style.subtitles and bool(speech.sentences),
                srt_written=manifest.srt_file is not None,
                subtitles_burned=subtitles_burned,
            )
        )
        # A video that fails a check is not the stage's result: nothing later can publish it.
        final = staging if failed_blocking(checks) else artifacts.commit(key, "composite", staging, manifest)
    for warning in warnings:
        context.log.warning(f"{key}: {warning}")
    context.log.info(
        f"{key}: composite {manifest.width}x{manifest.height} {manifest.layout}, {manifest.duration_s:.2f} s, "
        f"{manifest.bytes} bytes ({encoding.encoder}), {manifest.loudness_lufs} LUFS, {manifest.encode_seconds:.1f} s"
    )
    metadata = composite_metadata(
        identity=record_identity(context, speech.text),
        final_dir=final,
        video_file=MP4,
        thumbnail_file=THUMBNAIL,
        thumbnail_md=thumbnail,
        size_bytes=manifest.bytes,
        cap_bytes=style.max_bytes,
        width=manifest.width,
        height=manifest.height,
        layout=manifest.layout,
        background=f"{sources.plan.mode} ({style.background_fit})",
        duration_s=manifest.duration_s,
        speech_duration_s=duration,
        encoder=manifest.encoder,
        ceiling_kbps=ceiling,
        loudness_lufs=manifest.loudness_lufs,
        true_peak_db=manifest.true_peak_db,
        subtitles="burned in + .srt" if subtitles_burned else ("srt only" if manifest.srt_file else "off"),
        warnings=warnings,
        encode_seconds=manifest.encode_seconds,
        stage_seconds=watch.seconds,
    )
    return dg.MaterializeResult(metadata=metadata, check_results=checks)


def _row_style(style: CompositeStyle, row_layout: str | None) -> CompositeStyle:
    """The deployment's style with the row's layout override, or a message the user can act on."""
    if row_layout and row_layout not in LAYOUTS:
        raise PermanentInputError(f"The row's layout {row_layout!r} is not one of: {', '.join(LAYOUTS)}.")
    try:
        return style.with_layout(row_layout)
    except ValidationError as exc:
        reason = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        raise PermanentInputError(f"The row's layout {row_layout!r} cannot be used here: {reason}") from exc


def _avatar_stills(layout: FrameLayout, style: CompositeStyle, work: Path) -> tuple[Path | None, Path | None]:
    """The avatar's mask and (picture-in-picture only) its border, as PNGs in ``work``."""
    from talking_head_dagster.media.masks import write_border, write_mask  # OpenCV and NumPy: the composite's own

    if layout.avatar_mask is None:
        return None, None
    box = layout.avatar
    mask = write_mask(work / "mask.png", box.width, box.height, layout.avatar_mask)
    if style.layout != "pip" or style.border_px == 0:
        return mask, None
    border = write_border(
        work / "border.png", box.width, box.height, layout.avatar_mask, style.border_px, style.border_color
    )
    return mask, border


def _subtitles(
    speech: SpeechManifest, layout: FrameLayout, style: CompositeStyle, models_dir: Path, work: Path, staging: Path
) -> tuple[bool, list[str]]:
    """Write the .srt sidecar and, when a font can draw the text, the ASS file to burn in.

    Returns whether subtitles are burned in, and warnings for the user.
    """
    if not style.subtitles or not speech.sentences:
        return False, []
    configured = Path(style.subtitle_font) if style.subtitle_font else None
    if configured and not configured.is_file():
        raise PermanentInputError(f"The subtitle font {configured} does not exist.")
    text = " ".join(clean_text(sentence.text) for sentence in speech.sentences)
    candidates = font_candidates(configured, models_dir)
    font = pick_font(text, candidates)
    margin_left, margin_right = layout.subtitle_margins
    if font is None:
        (staging / SRT).write_text(srt_document(speech.sentences), encoding="utf-8")
        return False, [
            f"No subtitle font has glyphs for every character of this script ({missing_glyphs(text, candidates)}), "
            "so subtitles are only in the .srt file; set TALKING_HEAD_COMPOSITE__SUBTITLE_FONT or put a font "
            "that covers them in models/fonts."
        ]
    warnings = []
    if left_out := font.missing(text):
        warnings.append(
            f"The burned-in subtitles leave out {' '.join(left_out)} ({font.family} has no glyphs for them; "
            "the .srt keeps them)."
        )
    (work / FONTS_DIR).mkdir()
    _link_or_copy(font.path, work / FONTS_DIR / font.path.name)
    subtitle_style = SubtitleStyle(
        width=layout.width,
        height=layout.height,
        font=font,
        font_px=round(style.subtitle_size * min(layout.width, layout.height)),
        margin_left=margin_left,
        margin_right=margin_right,
        margin_bottom=layout.subtitle_margin_v,
    )
    write_subtitles(speech.sentences, subtitle_style, work / SUBTITLE_FILE, staging / SRT)
    shutil.copyfile(work / SUBTITLE_FILE, staging / SUBTITLE_FILE)
    return True, warnings


def _link_or_copy(source: Path, target: Path) -> None:
    """libass reads the font through a link: no copy of a 20 MB CJK collection per video (a copy where links fail)."""
    try:
        target.symlink_to(source.resolve())
    except OSError:
        shutil.copyfile(source, target)


def _music(style: CompositeStyle) -> Path | None:
    if style.music_file is None:
        return None
    music = Path(style.music_file)
    if not music.is_file():
        raise PermanentInputError(f"The background music file {music} does not exist.")
    return music


def _thumbnail_time(speech: SpeechManifest) -> float:
    """Into the first sentence, so the thumbnail shows a subtitle and a mouth at work."""
    first = speech.sentences[0] if speech.sentences else None
    at = first.start_s + min(1.0, (first.end_s - first.start_s) / 2) if first else 1.0
    return max(0.0, min(at, speech.duration_s - 0.1))
