"""Which ffmpeg binary to run: a configured one, the system's, or the one imageio-ffmpeg ships."""

import shutil
from functools import cache


@cache
def ffmpeg_binary(configured: str | None = None) -> str:
    if configured:
        return configured
    system = shutil.which("ffmpeg")
    if system:
        return system
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()
