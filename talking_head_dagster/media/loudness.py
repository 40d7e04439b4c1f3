"""Loudness normalisation: measure the mix, then apply one gain and a true-peak limiter in the encode.

FFmpeg's one-pass ``loudnorm`` adapts its gain as it goes (audible pumping, and on a short clip it
misses the target by up to a few LU), and its two-pass linear mode gives up and goes dynamic whenever
speech peaks would pass the ceiling, which Piper's plosives usually do. Instead, audio-only passes
(each a few percent of the video encode's time) measure the mix with ``ebur128``: once as it is, and
once through the gain and limiter, whose shaved peaks cost some loudness; the encode then applies the
gain corrected by what the limiter took. The limiter works on samples, so its ceiling keeps a margin
under the true-peak target for inter-sample peaks.
"""

import re
from dataclasses import dataclass

# alimiter looks at samples; inter-sample (true) peaks of speech at 48 kHz run up to ~0.5 dB higher.
INTER_SAMPLE_MARGIN_DB = 0.6
_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS")
_TRUE_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS")


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_db: float


def first_gain(raw: Loudness | None, target_lufs: float) -> float:
    """The gain that would reach the target if nothing limited the peaks; silence gets none."""
    return 0.0 if raw is None else round(target_lufs - raw.integrated_lufs, 2)


def corrected_gain(raw: Loudness | None, limited: Loudness | None, applied_db: float, target_lufs: float) -> float:
    """The gain that reaches the target through the limiter, from a measurement with and without it.

    Loudness rises more slowly than the gain once the limiter works (here 0.6-0.9 LU per dB), so the
    remaining gap is divided by the slope between the two measurements (a secant step).
    """
    if raw is None or limited is None or applied_db <= 0:
        return applied_db
    slope = (limited.integrated_lufs - raw.integrated_lufs) / applied_db
    slope = min(1.0, max(0.3, slope))
    return round(applied_db + (target_lufs - limited.integrated_lufs) / slope, 2)


def limiter_options(true_peak_db: float) -> dict[str, object]:
    """``alimiter`` options: ceiling under the true-peak target, no make-up gain ("level")."""
    ceiling = 10 ** ((true_peak_db - INTER_SAMPLE_MARGIN_DB) / 20)
    return {"limit": f"{ceiling:.4f}", "attack": 5, "release": 50, "level": "disabled"}


def parse_ebur128(stderr: str) -> Loudness | None:
    """The summary ``ebur128=peak=true`` prints at the end of a pass, or None."""
    integrated = _INTEGRATED.findall(stderr)
    peak = _TRUE_PEAK.findall(stderr)
    if not integrated or not peak or "-inf" in (integrated[-1], peak[-1]):
        return None
    return Loudness(integrated_lufs=float(integrated[-1]), true_peak_db=float(peak[-1]))
