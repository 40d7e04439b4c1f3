"""Reading FFmpeg's ebur128 summary, and the gain and limiter that bring a mix to the target."""

import re
import subprocess

import pytest

from talking_head_dagster.media.binary import ffmpeg_binary
from talking_head_dagster.media.loudness import (
    INTER_SAMPLE_MARGIN_DB,
    Loudness,
    corrected_gain,
    first_gain,
    limiter_options,
    parse_ebur128,
)


def ebur128_log(source: str) -> str:
    """FFmpeg's stderr for one second of a lavfi audio ``source`` measured by ``ebur128=peak=true``."""
    command = [ffmpeg_binary(), "-hide_banner", "-nostats", "-loglevel", "info", "-f", "lavfi", "-i", source]
    command += ["-t", "1", "-af", "ebur128=peak=true", "-f", "null", "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stderr


@pytest.fixture(scope="module")
def sine_log() -> str:
    return ebur128_log("sine=frequency=1000:sample_rate=48000:duration=1")


def test_parses_the_summary_ffmpeg_prints_for_a_sine(sine_log: str) -> None:
    # lavfi's sine has amplitude 1/8 (-18.1 dBFS); a 1 kHz mono sine measures 3 dB under its peak, -21.1 LUFS.
    assert "Integrated loudness:" in sine_log and "True peak:" in sine_log
    measured = parse_ebur128(sine_log)
    assert measured is not None
    assert measured.integrated_lufs == pytest.approx(-21.1, abs=0.15)
    assert measured.true_peak_db == pytest.approx(-18.1, abs=0.15)


def test_the_last_summary_wins(sine_log: str) -> None:
    earlier = re.sub(r"(Peak:\s*)-?[\d.]+", r"\g<1>-25.0", re.sub(r"(I:\s*)-?[\d.]+", r"\g<1>-30.0", sine_log))
    assert parse_ebur128(earlier + sine_log) == parse_ebur128(sine_log)
    assert parse_ebur128(sine_log + earlier) == Loudness(-30.0, -25.0)


def test_silence_measures_as_nothing() -> None:
    log = ebur128_log("anullsrc=sample_rate=48000:channel_layout=mono")
    assert "-inf dBFS" in log
    assert parse_ebur128(log) is None


@pytest.mark.parametrize("log", ["", "Integrated loudness:\n    I:  -20.0 LUFS\n", "True peak:\n    Peak: -1.0 dBFS\n"])
def test_an_incomplete_log_measures_as_nothing(log: str) -> None:
    assert parse_ebur128(log) is None


def test_the_first_gain_closes_the_gap_to_the_target() -> None:
    assert first_gain(Loudness(-21.137, -18.1), -14.0) == 7.14
    assert first_gain(Loudness(-9.5, -0.2), -14.0) == -4.5
    assert first_gain(None, -14.0) == 0.0


@pytest.mark.parametrize(
    ("limited_lufs", "expected"),
    [
        (-15.0, 7.2),  # 5 LU for 6 dB: the missing 1 LU needs 1 / (5/6) dB more
        (-14.0, 6.0),  # on target already
        (-13.5, 5.5),  # rose faster than the gain (6.5 LU): slope capped at 1 LU per dB
        (-19.4, 24.0),  # barely moved (0.6 LU): slope held at 0.3, 5.4 / 0.3 dB more rather than 9 times that
    ],
)
def test_the_corrected_gain_is_a_secant_step_with_a_bounded_slope(limited_lufs: float, expected: float) -> None:
    raw = Loudness(-20.0, -8.0)
    gain = corrected_gain(raw, Loudness(limited_lufs, -1.7), 6.0, -14.0)
    assert gain == pytest.approx(expected, abs=0.006)


def test_no_correction_without_two_measurements_or_for_a_cut() -> None:
    raw, limited = Loudness(-20.0, -8.0), Loudness(-15.0, -1.7)
    assert corrected_gain(None, limited, 6.0, -14.0) == 6.0
    assert corrected_gain(raw, None, 6.0, -14.0) == 6.0
    assert corrected_gain(raw, limited, 0.0, -14.0) == 0.0
    assert corrected_gain(Loudness(-9.0, -0.5), Loudness(-14.2, -5.5), -5.0, -14.0) == -5.0


@pytest.mark.parametrize("true_peak_db", [-1.0, -2.0, 0.0, -9.0])
def test_the_limiter_ceiling_leaves_room_for_inter_sample_peaks(true_peak_db: float) -> None:
    options = limiter_options(true_peak_db)
    ceiling = float(options["limit"])
    target = 10 ** (true_peak_db / 20)
    assert ceiling < target
    assert ceiling == pytest.approx(10 ** ((true_peak_db - INTER_SAMPLE_MARGIN_DB) / 20), abs=1e-4)
    assert 0.0625 <= ceiling <= 1.0  # alimiter's accepted range
    assert options["level"] == "disabled"  # no make-up gain on top of ours
    assert 0 < options["attack"] < options["release"]


def test_the_default_ceiling_is_about_minus_1_6_dbfs() -> None:
    assert limiter_options(-1.0)["limit"] == "0.8318"
