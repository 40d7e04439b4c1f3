"""Figures and texts as people read them in the UI and at the console: units, and short texts."""

MIB = 1024 * 1024


def mib(size_bytes: int | float) -> str:
    """``31457280`` -> ``30.0 MiB``; small files in KiB."""
    if size_bytes < MIB / 10:
        return f"{size_bytes / 1024:.1f} KiB"
    return f"{size_bytes / MIB:.1f} MiB"


def seconds(value: float) -> str:
    """``12.345`` -> ``12.35 s``."""
    return f"{value:.2f} s"


def speed(real_time_factor: float) -> str:
    """Processing time over media time, with the way it goes: ``0.17`` -> ``0.17x real time (faster
    than real time)``."""
    if real_time_factor <= 0:
        return "instant"
    way = "faster" if real_time_factor < 1 else "slower"
    return f"{real_time_factor:.2f}x real time ({way} than real time)"


def shorten(text: str, limit: int = 30) -> str:
    """One line of at most ``limit`` characters, cut at a word boundary (or a character, for
    scripts without spaces), with an ellipsis when something was cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"
