"""ffmpeg and ffprobe: pure argv builders, and the one place that runs a subprocess.

Builders return argv lists and touch nothing, so tests check them without running ffmpeg.
Every input is read through ``-protocol_whitelist file`` (with a ``file:`` prefix, so a name
is never taken for a protocol or an option): ffmpeg only ever reads local files.

``run`` and ``run_capture`` start the tool in its own process group, enforce a wall-clock
deadline, and kill the whole group (SIGKILL) on the deadline or when the progress callback
raises, so no tool outlives the step that started it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import ffmpeg

from pipeline.errors import DeadlineExceeded, ProcessingError
from pipeline.media.limits import ProgressFn

log = logging.getLogger("pony.ffmpeg")

STDERR_TAIL = 8 * 1024
CAPTURE_LIMIT = 16 * 1024 * 1024
PROGRESS_INTERVAL = 0.25
_GLOBAL_ARGS = ("-nostdin", "-hide_banner", "-loglevel", "error")
_PROGRESS_ARGS = ("-progress", "pipe:1", "-nostats")


def _local(path: Path) -> str:
    return f"file:{path}"


def _input(src: Path, **options: object) -> ffmpeg.nodes.FilterableStream:
    return ffmpeg.input(_local(src), protocol_whitelist="file", **options)


def _compile(stream: ffmpeg.nodes.OutputStream, *extra: str) -> list[str]:
    args: list[str] = stream.global_args(*_GLOBAL_ARGS, *extra).overwrite_output().compile()
    return args


def probe_argv(src: Path) -> list[str]:
    """ffprobe's JSON report of ``src``'s container and streams."""
    return [
        "ffprobe",
        *("-v", "error", "-hide_banner", "-protocol_whitelist", "file"),
        *("-print_format", "json", "-show_format", "-show_streams"),
        _local(src),
    ]


def poster_argv(src: Path, dst: Path, *, at: float, width: int, height: int) -> list[str]:
    """One JPEG frame of ``src`` at ``at`` seconds, upright, scaled to ``width``x``height``."""
    video = _input(src, ss=f"{at:.3f}")["V:0"].filter("scale", width, height).filter("setsar", 1)
    out = video.output(
        _local(dst),
        f="image2",
        update=1,
        map_metadata=-1,
        **{"frames:v": 1, "c:v": "mjpeg", "q:v": 2},
    )
    return _compile(out)


def transcode_argv(
    src: Path,
    dst: Path,
    *,
    width: int,
    height: int,
    has_audio: bool,
    crf: int,
    preset: str,
    audio_bitrate: str,
) -> list[str]:
    """H.264 (yuv420p, high profile) + AAC in a progressive-download MP4 of ``width``x``height``.

    ffmpeg's autorotate turns the frames upright while decoding, and the output carries no
    rotation flag, so players that ignore the flag still show the video the right way up.
    """
    source = _input(src)
    video = source["V:0"].filter("scale", width, height).filter("setsar", 1)
    streams = [video, source["a:0"]] if has_audio else [video]
    options: dict[str, object] = {
        "c:v": "libx264",
        "preset": preset,
        "crf": crf,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "map_metadata": -1,
        "map_chapters": -1,
        "movflags": "+faststart",
        "f": "mp4",
    }
    if has_audio:
        options |= {"c:a": "aac", "b:a": audio_bitrate}
    return _compile(ffmpeg.output(*streams, _local(dst), **options), *_PROGRESS_ARGS)


def audio_argv(src: Path, dst: Path, *, bitrate: str) -> list[str]:
    """The first audio stream of ``src`` as AAC in a progressive-download M4A."""
    audio = _input(src)["a:0"]
    out = audio.output(
        _local(dst),
        vn=None,
        map_metadata=-1,
        map_chapters=-1,
        movflags="+faststart",
        f="ipod",
        **{"c:a": "aac", "b:a": bitrate},
    )
    return _compile(out, *_PROGRESS_ARGS)


def run(
    argv: list[str],
    *,
    deadline: float,
    duration: float | None = None,
    progress: ProgressFn | None = None,
) -> None:
    """Run an ffmpeg ``argv`` built with ``-progress pipe:1`` to its end.

    ``deadline`` is the wall-clock budget in seconds. ``progress`` gets fractions of
    ``duration`` in [0, 1], at most every ``PROGRESS_INTERVAL`` seconds and 1.0 at the end.
    Raises ``DeadlineExceeded`` when the budget runs out, ``ProcessingError`` when the tool
    fails, and whatever ``progress`` raises (e.g. ``Canceled``); the tool is dead in each case.
    """
    reader = _ProgressReader(duration, progress)
    _supervise(argv, deadline=deadline, on_stdout=reader.feed)
    reader.finish()


def run_capture(argv: list[str], *, deadline: float) -> bytes:
    """Run ``argv`` (ffprobe) and return its stdout; same deadline and errors as ``run``."""
    chunks: list[bytes] = []
    size = 0

    def keep(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)
        if size > CAPTURE_LIMIT:
            raise ProcessingError(f"{_tool(argv)} wrote more output than expected")
        chunks.append(chunk)

    _supervise(argv, deadline=deadline, on_stdout=keep)
    return b"".join(chunks)


def _supervise(argv: list[str], *, deadline: float, on_stdout: Callable[[bytes], None]) -> None:
    """Start ``argv``, feed its stdout to ``on_stdout`` and keep its stderr's tail until it
    exits; the process group is killed and reaped on every way out."""
    ends_at = time.monotonic() + deadline
    proc = _spawn(argv)
    stderr = bytearray()
    try:
        finished = _pump(proc, ends_at, on_stdout, stderr) and _reap(proc, ends_at)
    finally:
        _kill_group(proc)
    if not finished:
        log.warning("%s ran past its %g s deadline and was killed", _tool(argv), deadline)
        raise DeadlineExceeded(f"processing took longer than {deadline:g} s and was stopped")
    if proc.returncode != 0:
        log.warning("%s exited with %s: %s", _tool(argv), proc.returncode, _decode(stderr))
        raise ProcessingError(
            f"{_tool(argv)} could not process the file (exit status {proc.returncode})"
        )


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    """The only place Pony Express starts a process."""
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise ProcessingError(f"{_tool(argv)} is not available on this worker") from exc


def _pump(
    proc: subprocess.Popen[bytes],
    ends_at: float,
    on_stdout: Callable[[bytes], None],
    stderr: bytearray,
) -> bool:
    """Read both pipes until both close, so neither fills up and blocks the tool.

    False if ``ends_at`` came first.
    """
    assert proc.stdout is not None and proc.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, on_stdout)
        selector.register(proc.stderr, selectors.EVENT_READ, lambda c: _keep_tail(stderr, c))
        while selector.get_map():
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                return False
            for key, _ in selector.select(timeout=remaining):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    key.data(chunk)
                else:
                    selector.unregister(key.fileobj)
    return True


def _reap(proc: subprocess.Popen[bytes], ends_at: float) -> bool:
    """Wait for the tool to exit once its pipes closed; False if ``ends_at`` came first."""
    try:
        proc.wait(timeout=max(0.0, ends_at - time.monotonic()))
    except subprocess.TimeoutExpired:
        return False
    return True


def _keep_tail(tail: bytearray, chunk: bytes) -> None:
    tail += chunk
    del tail[:-STDERR_TAIL]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL whatever is left of the tool's process group, then reap the tool."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _tool(argv: list[str]) -> str:
    return Path(argv[0]).name if argv else "the media tool"


def _decode(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", errors="replace").strip()


class _ProgressReader:
    """Turns ffmpeg's ``-progress`` key=value lines into throttled fractions of ``duration``."""

    def __init__(self, duration: float | None, progress: ProgressFn | None) -> None:
        self.duration = duration if duration and duration > 0 else None
        self.progress = progress
        self.buffer = b""
        self.best = 0.0
        self.last_call = float("-inf")
        self.ended = False

    def feed(self, chunk: bytes) -> None:
        *lines, self.buffer = (self.buffer + chunk).split(b"\n")
        for line in lines:
            key, _, value = line.decode("ascii", errors="replace").strip().partition("=")
            self._on_pair(key, value)

    def finish(self) -> None:
        if not self.ended:
            self._report(1.0, force=True)

    def _on_pair(self, key: str, value: str) -> None:
        if key == "progress" and value == "end":
            self.ended = True
            self._report(1.0, force=True)
        elif key in ("out_time_us", "out_time_ms") and self.duration is not None:
            micros = _int_or_none(value)
            if micros is not None:
                self._report(micros / 1e6 / self.duration, force=False)

    def _report(self, fraction: float, *, force: bool) -> None:
        self.best = max(self.best, min(1.0, max(0.0, fraction)))
        moment = time.monotonic()
        if self.progress is None or (not force and moment - self.last_call < PROGRESS_INTERVAL):
            return
        self.last_call = moment
        self.progress(self.best)


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None
