"""A photo post as a video: each image held a few seconds with a slow zoom or pan, crossfaded to the next.

Every image is fitted inside a 1080x1920 canvas over a blurred, darkened copy of itself (photo
posts are mostly 3:4, and their images may differ), drawn 25 % larger than the output so the slow
zooms and pans move smoothly, then FFmpeg's ``zoompan`` gives it one of four motions in turn.
The ``xfade`` filter joins the images. The result has no audio track.
"""

from pathlib import Path

SIZE = (1080, 1920)
FPS = 25
MAX_IMAGES = 20
ZOOM = 0.12  # how far a zoom goes, and how far in a pan is (room to move)
HEADROOM = 1.25  # canvas size over output size: sub-pixel zoompan steps without visible jitter

# zoompan's z, x and y over the output frame number "on" of "{n}" frames per image.
MOTIONS = {
    "zoom in": (f"1+{ZOOM}*on/{{n}}", "(iw-iw/zoom)/2", "(ih-ih/zoom)/2"),
    "pan right": (f"1+{ZOOM}", "(iw-iw/zoom)*on/{n}", "(ih-ih/zoom)/2"),
    "zoom out": (f"1+{ZOOM}-{ZOOM}*on/{{n}}", "(iw-iw/zoom)/2", "(ih-ih/zoom)/2"),
    "pan down": (f"1+{ZOOM}", "(iw-iw/zoom)/2", "(ih-ih/zoom)*on/{n}"),
}


def slideshow_duration(count: int, seconds_per_image: float, crossfade_s: float) -> float:
    return count * seconds_per_image - max(count - 1, 0) * crossfade_s


def slideshow_args(
    images: list[Path],
    output: Path,
    seconds_per_image: float = 3.0,
    crossfade_s: float = 0.5,
    size: tuple[int, int] = SIZE,
    fps: int = FPS,
) -> list[str]:
    """FFmpeg arguments (after the binary) that turn ``images`` into an H.264 slideshow at ``output``.

    Steps: 1. one single-frame input per image; 2. per image: the blurred fill, the image fitted
    over it, then ``zoompan`` for ``seconds_per_image`` with the next motion; 3. ``xfade`` joins
    them; 4. an H.264 encode with ``+faststart``.
    """
    if not images:
        raise ValueError("a slideshow needs at least one image")
    width, height = size
    canvas_w, canvas_h = _even(width * HEADROOM), _even(height * HEADROOM)
    frames = max(round(seconds_per_image * fps), 1)
    fade = min(crossfade_s, seconds_per_image / 2)
    # 1. Inputs.
    args = ["-y"]
    for image in images:
        args += ["-i", str(image)]
    # 2. One clip per image.
    chains = []
    for i, name in enumerate(_motion_names(len(images))):
        z, x, y = (expression.format(n=frames) for expression in MOTIONS[name])
        chains.append(
            f"[{i}:v]split[a{i}][b{i}];"
            f"[a{i}]scale={canvas_w}:{canvas_h}:force_original_aspect_ratio=increase,crop={canvas_w}:{canvas_h},"
            f"boxblur=24:2,eq=brightness=-0.12[bg{i}];"
            f"[b{i}]scale={canvas_w}:{canvas_h}:force_original_aspect_ratio=decrease[fg{i}];"
            f"[bg{i}][fg{i}]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv420p,"
            f"zoompan=z='{z}':x='{x}':y='{y}':d={frames}:s={width}x{height}:fps={fps},setpts=PTS-STARTPTS[s{i}]"
        )
    # 3. Crossfades.
    last = "s0"
    for i in range(1, len(images)):
        offset = i * (seconds_per_image - fade)
        chains.append(f"[{last}][s{i}]xfade=transition=fade:duration={fade:.3f}:offset={offset:.3f}[x{i}]")
        last = f"x{i}"
    chains.append(f"[{last}]scale=out_range=tv,format=yuv420p[video]")
    # 4. Encode.
    return [
        *args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[video]",
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
        "-r",
        str(fps),
        "-movflags",
        "+faststart",
        str(output),
    ]


def motion_summary(count: int) -> str:
    """The motions a slideshow of ``count`` images uses, in words."""
    return ", ".join(dict.fromkeys(_motion_names(count)))


def _motion_names(count: int) -> list[str]:
    names = list(MOTIONS)
    return [names[i % len(names)] for i in range(count)]


def _even(value: float) -> int:
    return int(value) // 2 * 2
