"""Media made at test time: tiny videos, sounds and images with known content.

Videos come from ffmpeg's lavfi sources, images from Pillow. Each factory returns the path it
wrote, so tests read ``src = make_video(tmp_path / "in.mp4")``. ``ffprobe_json`` and
``first_frame`` decode outputs, for checks by decoding rather than by bytes.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image

from pipeline import graph
from pipeline.db.repository import NewJob
from pipeline.ids import new_id
from pipeline.jobs import Source

FFMPEG = ("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y")
RED, BLUE = (255, 0, 0), (0, 0, 255)


def make_video(
    path: Path,
    *,
    size: tuple[int, int] = (320, 240),
    duration: float = 1.0,
    audio: bool = True,
    rotate: int = 0,
    halves: bool = False,
    rate: int = 25,
    audio_duration: float | None = None,
) -> Path:
    """An H.264 (+ AAC) clip of ``size`` as stored. ``halves``: left half red, right half
    blue (to check orientation); else ffmpeg's ``testsrc2``. ``rotate`` adds a display
    rotation flag, as phones do, and checks ffprobe really sees it. ``audio_duration`` makes
    the sound outlast (or stop before) the picture."""
    width, height = size
    if halves:
        half = f"s={width // 2}x{height}:r={rate}:d={duration}"
        graph = f"color=c=red:{half}[l];color=c=blue:{half}[r];[l][r]hstack[v]"
    else:
        graph = f"testsrc2=size={width}x{height}:rate={rate}:duration={duration}[v]"
    if audio:
        graph += f";sine=frequency=440:duration={audio_duration or duration}[a]"
    maps = ["-map", "[v]", *(["-map", "[a]"] if audio else [])]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    target = path if not rotate else path.with_name(f"unrotated-{path.name}")
    _ffmpeg("-filter_complex", graph, *maps, *encode, str(target))
    if rotate:
        _ffmpeg("-i", str(target), "-c", "copy", "-metadata:s:v:0", f"rotate={rotate}", str(path))
        target.unlink()
        assert video_rotation(path) % 360 == rotate % 360, "ffmpeg wrote no rotation flag"
    return path


def make_audio(path: Path, *, duration: float = 1.0) -> Path:
    """A 440 Hz tone; the codec follows the suffix (``.wav``, ``.mp3``, ``.ogg``, ``.m4a``)."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}", str(path))
    return path


def make_image(
    path: Path,
    *,
    size: tuple[int, int] = (320, 240),
    mode: str = "RGB",
    fmt: str = "JPEG",
    exif_orientation: int | None = None,
    frames: int = 1,
) -> Path:
    """An image of ``size`` as stored: left half red, right half blue (in ``mode``'s terms;
    transparent modes get a transparent bottom quarter). ``frames`` > 1 makes an animation."""
    first = picture(size, mode)
    options: dict[str, Any] = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        options["exif"] = exif.tobytes()
    if frames > 1:
        rest = [picture(size, mode, shift=i) for i in range(1, frames)]
        options |= {"save_all": True, "append_images": rest, "duration": 100, "loop": 0}
    if mode == "P" and "transparency" in first.info:
        options["transparency"] = first.info["transparency"]
    first.save(path, format=fmt, **options)
    return path


def picture(size: tuple[int, int], mode: str, *, shift: int = 0) -> Image.Image:
    """The factory's picture in ``mode``; ``shift`` moves the split to vary animation frames."""
    width, height = size
    base = Image.new("RGBA", size, (*RED, 255))
    base.paste((*BLUE, 255), (width // 2 + shift, 0, width, height))
    if mode in ("RGBA", "LA", "P"):
        base.paste((0, 0, 0, 0), (0, height * 3 // 4, width, height))
    if mode == "P":
        return _palette(base)
    if mode.startswith("I"):
        return _wide(base, mode)
    return base.convert(mode)


def _palette(base: Image.Image) -> Image.Image:
    """Palette entries 0 red, 1 blue, 2 black and transparent, painted after ``base``."""
    paletted = Image.new("P", base.size, 0)
    paletted.putpalette([*RED, *BLUE, 0, 0, 0])
    rgba = base.load()
    assert rgba is not None
    for x in range(base.width):
        for y in range(base.height):
            pixel = rgba[x, y]
            assert isinstance(pixel, tuple)
            paletted.putpixel((x, y), 2 if pixel[3] == 0 else 1 if pixel[2] else 0)
    paletted.info["transparency"] = 2
    return paletted


def _wide(base: Image.Image, mode: str) -> Image.Image:
    """16-bit grey: the 8-bit grey scaled to the full 0-65535 range."""
    return base.convert("L").convert("I").point(lambda v: v * 257).convert(mode)


def ffprobe_json(path: Path) -> dict[str, Any]:
    """ffprobe's report of ``path`` (format and streams)."""
    out = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-print_format", "json"),
            "-show_format",
            "-show_streams",
            str(path),
        ],
        capture_output=True,
        check=True,
    ).stdout
    report: dict[str, Any] = json.loads(out)
    return report


def video_rotation(path: Path) -> int:
    """The display rotation flag of the first video stream, 0 when there is none."""
    video = next(s for s in ffprobe_json(path)["streams"] if s["codec_type"] == "video")
    for side in video.get("side_data_list", []):
        if "rotation" in side:
            return int(side["rotation"])
    return int(video.get("tags", {}).get("rotate", 0))


def first_frame(path: Path, *, autorotate: bool = True) -> Image.Image:
    """The first video frame of ``path`` decoded to RGB (``autorotate=False`` ignores flags)."""
    flags = [] if autorotate else ["-noautorotate"]
    png = subprocess.run(
        [
            *FFMPEG,
            *flags,
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "png",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("RGB")


def atom_order(path: Path) -> list[str]:
    """The top-level MP4 box names in file order (``moov`` before ``mdat`` = faststart)."""
    data = path.read_bytes()
    names, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        names.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return names


def _ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], capture_output=True, check=True)


def stream(report: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The first stream of ``kind`` ("video", "audio") in an ffprobe report, if any."""
    return next((s for s in report["streams"] if s["codec_type"] == kind), None)


def truncate(path: Path, fraction: float) -> Path:
    """Cut ``path`` to ``fraction`` of its bytes, as an interrupted upload would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def new_job(tenant_id: str, *, document: dict[str, Any] | None = None, **fields: Any) -> NewJob:
    """A job to insert: the probe plus ``document``'s steps; ``fields`` override the rest."""
    values: dict[str, Any] = {
        "id": new_id("job"),
        "tenant_id": tenant_id,
        "pipeline": "custom",
        "expand": None,
        "source": Source(filename="a.jpg", size=3, content_type="image/jpeg", sha256="x", key="k"),
        "metadata": {},
        "webhook_url": None,
        "notify_email": None,
        "idempotency_key": None,
        "steps": graph.plan(document or {"steps": {}}),
    }
    return NewJob(**{**values, **fields})
