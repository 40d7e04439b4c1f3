"""``talking-head doctor``: what this machine can render with, and what is missing for the rest.

Reports FFmpeg (binary, version, the H.264 encoders), the voices found, the subtitle fonts and
the scripts they write, the CUDA device, the SoulX-FlashHead checkout and weights, and which
avatar backends are usable and why not. The CPU path (FFmpeg with libx264, a voice, the lite
avatar) is what every deployment needs; the GPU backend is optional.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

from talking_head_dagster.settings import Settings

OK, MISSING, INFO = "ok", "missing", "info"
MARKS = {OK: "[ok]", MISSING: "[--]", INFO: "[  ]"}


@dataclass(frozen=True)
class Finding:
    status: str  # OK, MISSING or INFO
    text: str


@dataclass(frozen=True)
class Section:
    title: str
    findings: list[Finding]


@dataclass(frozen=True)
class DoctorReport:
    sections: list[Section]
    lite_path_works: bool

    def render(self) -> str:
        lines: list[str] = []
        for section in self.sections:
            lines.append(section.title)
            lines += [f"  {MARKS[f.status]} {f.text}" for f in section.findings]
            lines.append("")
        verdict = "works" if self.lite_path_works else "does NOT work: see the [--] lines above"
        lines.append(f"The CPU path (FFmpeg + voice + lite avatar) {verdict}.")
        return "\n".join(lines)


def build_report(settings: Settings | None = None) -> DoctorReport:
    """Examine this machine for the deployment ``settings`` describe (the environment's by default).

    Steps: 1. the deployment's resources; 2. FFmpeg; 3. voices; 4. the flashhead preflight
    (checkout, weights, packages, CUDA, memory); 5. the avatar backends and what 'auto' picks.
    """
    from talking_head_dagster.avatar.flashhead.preflight import run_preflight
    from talking_head_dagster.resources.factory import build_resources

    # 1. Resources, as the deployment builds them.
    resources = build_resources(settings or Settings())
    avatar, speech, ffmpeg = resources["avatar"], resources["speech"], resources["ffmpeg"]
    options = avatar.flashhead_options()
    # 2.-4.
    ffmpeg_section, ffmpeg_ok = _ffmpeg(ffmpeg.exe)
    voices_section, voices_ok = _voices(speech)
    preflight = run_preflight(options)
    checks = {check.name: check for check in preflight.checks}
    gpu_section = Section("CUDA", [_finding(checks["CUDA device"]), _finding(checks["GPU memory"])])
    upstream_section = Section(
        f"SoulX-FlashHead checkout ({options.vendor_dir})", [_finding(checks["upstream checkout"])]
    )
    weights_section = _weights(options)
    packages_section = Section("SoulX-FlashHead's Python packages", [_finding(checks["upstream packages"])])
    # 5. Backends.
    lite_ok, lite_detail = _lite_usable(avatar)
    failed = [check.name for check in preflight.checks if not check.ok]
    flashhead_detail = "usable" if preflight.ok else f"not usable ({', '.join(failed)}: see above)"
    findings = [
        Finding(OK if lite_ok else MISSING, f"lite (CPU): {lite_detail}"),
        Finding(OK if preflight.ok else MISSING, f"flashhead (GPU, {options.model_type}): {flashhead_detail}"),
    ]
    flashhead_ok = preflight.ok
    if avatar.flashhead_server_url:
        flashhead_ok, finding = _avatar_server(avatar.flashhead_server_url)
        findings.append(finding)
    configured = f"configured: AVATAR__BACKEND={avatar.backend}"
    if avatar.backend == "auto":
        configured += f", which picks {'flashhead' if flashhead_ok else 'lite'} here"
    backends = Section("Avatar backends", [*findings, Finding(INFO, configured)])
    fonts_section = _subtitle_fonts(resources["composite_format"])
    sections = [ffmpeg_section, voices_section, fonts_section, gpu_section, upstream_section, weights_section]
    sections.append(packages_section)
    sections.append(backends)
    return DoctorReport(sections, lite_path_works=ffmpeg_ok and voices_ok and lite_ok)


def _avatar_server(url: str) -> tuple[bool, Finding]:
    """Whether the configured avatar server answers; the runs render there instead of loading the model."""
    from talking_head_dagster.resources.avatar_server import AvatarServerClient, AvatarServerUnavailableError

    try:
        health = AvatarServerClient(url).health()
    except AvatarServerUnavailableError as exc:
        return False, Finding(MISSING, f"flashhead on the avatar server: {exc}")
    detail = f"{health.get('model')}, attention {health.get('attention')}, {health.get('renders')} renders so far"
    return True, Finding(OK, f"flashhead on the avatar server {url}: ready ({detail}); renders go there")


def _ffmpeg(exe: str) -> tuple[Section, bool]:
    try:
        version = _run([exe, "-hide_banner", "-version"]).splitlines()[0].split(" Copyright")[0]
        encoders = _run([exe, "-hide_banner", "-encoders"])
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        return Section("FFmpeg", [Finding(MISSING, f"{exe} does not run: {exc}")]), False
    names = {line.split()[1] for line in encoders.splitlines() if len(line.split()) > 1}
    has_x264 = "libx264" in names
    findings = [
        Finding(OK, f"{exe}: {version}"),
        Finding(OK if has_x264 else MISSING, "libx264 encoder" + ("" if has_x264 else ": not in this build")),
        Finding(INFO, "h264_nvenc encoder: " + ("built in (needs an NVIDIA GPU)" if "h264_nvenc" in names else "no")),
    ]
    return Section("FFmpeg", findings), has_x264


# Languages named in the voices list; Chinese is the one the original tables are written in.
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "de": "German", "fr": "French", "es": "Spanish", "ja": "Japanese"}


def _voices(speech) -> tuple[Section, bool]:
    """Each voice found with its language, the configured language map, and a hint when Chinese has none."""
    try:
        voices = speech.available_voices()
    except Exception as exc:  # a broken voice package or models folder: report, do not crash the doctor
        return Section("Voices", [Finding(MISSING, f"cannot list voices: {exc}")]), False
    findings = [
        Finding(OK, f"{v.name} ({v.language or '?'}): {LANGUAGE_NAMES.get(v.language, 'language unknown')}, {v.model}")
        for v in voices.values()
    ]
    if speech.voices:
        mapped = ", ".join(f"{language} -> {name}" for language, name in sorted(speech.voices.items()))
        findings.append(Finding(INFO, f"SPEECH__VOICES: {mapped}"))
    if not any(voice.language == "zh" for voice in voices.values()):
        findings.append(Finding(INFO, f"Chinese scripts fail here. {speech.no_voice_message('zh')}"))
    title = f"Voices (bundled and under {speech.models_dir}/)"
    return Section(title, findings or [Finding(MISSING, "none")]), bool(voices)


def _weights(options) -> Section:
    from talking_head_dagster.avatar.flashhead.weights import check_weights

    status = check_weights(options.model_type, options.ckpt_dir, options.wav2vec_dir)
    findings = [Finding(OK, f"present: {path}") for path in status.present]
    findings += [Finding(MISSING, problem) for problem in status.problems()]
    title = f"SoulX-FlashHead {options.model_type} weights ({options.ckpt_dir}, {options.wav2vec_dir})"
    return Section(title, findings)


def _lite_usable(avatar) -> tuple[bool, str]:
    """The lite renderer imports, and finds the one face it needs in the configured portrait."""
    try:
        from talking_head_dagster.avatar.face import analyse_face

        portrait: Path = avatar.portrait_path()
        analyse_face(portrait)
    except Exception as exc:  # whatever stops it, the operator needs the message
        return False, f"not usable: {exc}"
    return True, f"usable (portrait {portrait})"


def _finding(check) -> Finding:
    return Finding(OK if check.ok else MISSING, check.detail)


def _run(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60, check=True).stdout


# One line of each script the subtitles may have to write.
FONT_SAMPLES = {
    "Latin": "Subtitles, 50% off!",
    "Chinese": "中文字幕，价格4999元。",
    "Japanese": "日本語の字幕です。",
    "Korean": "한국어 자막입니다.",
}


def _subtitle_fonts(composite) -> Section:
    """The subtitle fonts in the order they are tried, and which one writes each script."""
    from talking_head_dagster.media.fonts import face_families, font_candidates, pick_font

    configured = Path(composite.style.subtitle_font) if composite.style.subtitle_font else None
    candidates = font_candidates(configured, Path(composite.models_dir))
    findings = []
    for path in candidates:
        if not path.is_file():
            findings.append(
                Finding(MISSING, f"{path}: not found (every render with subtitles fails until it is there)")
            )
            continue
        try:
            families = face_families(path.resolve())
        except (OSError, RuntimeError) as exc:
            findings.append(Finding(MISSING, f"{path}: not a font FreeType can read ({exc})"))
            continue
        named = families[0] if len(families) == 1 else f"{len(families)} faces ({', '.join(families[:3])}, ...)"
        findings.append(Finding(INFO, f"{named}: {path}"))
    for script, sample in FONT_SAMPLES.items():
        font = pick_font(sample, candidates)
        written = f"{font.family} ({font.path.name})" if font else "no font: only the .srt file has them"
        findings.append(Finding(OK if font else MISSING, f"{script} subtitles: {written}"))
    return Section(f"Subtitle fonts (configured, then {composite.models_dir}/fonts/, then bundled)", findings)
