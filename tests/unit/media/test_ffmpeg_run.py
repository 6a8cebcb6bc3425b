from __future__ import annotations

import logging
import sys
import time
import uuid
from pathlib import Path

import pytest

from pipeline.errors import Canceled, DeadlineExceeded, ProcessingError
from pipeline.media import ffmpeg


def _endless_ffmpeg(marker: str) -> list[str]:
    """A real-time ffmpeg that would run for a minute; ``marker`` finds it in /proc."""
    return [
        *("ffmpeg", "-nostdin", "-hide_banner", "-re", "-f", "lavfi"),
        *("-i", "testsrc=size=32x32:rate=10:duration=60"),
        *("-metadata", f"comment={marker}", "-progress", "pipe:1", "-nostats", "-f", "null", "-"),
    ]


def _running(marker: str) -> list[int]:
    """Pids of live processes whose command line holds ``marker`` (zombies have none)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline and proc.name.isdigit():
            pids.append(int(proc.name))
    return pids


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_run_kills_ffmpeg_when_the_deadline_passes() -> None:
    marker = uuid.uuid4().hex
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        ffmpeg.run(_endless_ffmpeg(marker), deadline=1.0, duration=60.0)
    assert 0.9 < time.monotonic() - started < 2.5
    assert caught.value.message == "processing took longer than 1 s and was stopped"
    assert _running(marker) == []


def test_run_kills_the_whole_process_group_not_only_the_leader() -> None:
    marker = f"{uuid.uuid4().int % 1000}.{uuid.uuid4().int % 100_000:05d}"
    with pytest.raises(DeadlineExceeded):
        ffmpeg.run(["sh", "-c", f"sleep 1{marker} & sleep 2{marker}; :"], deadline=0.5)
    time.sleep(0.1)
    assert _running(marker) == []


def test_run_kills_ffmpeg_and_reraises_when_the_progress_callback_cancels() -> None:
    marker = uuid.uuid4().hex
    calls: list[float] = []

    def cancel(fraction: float) -> None:
        calls.append(fraction)
        raise Canceled("the job was canceled")

    started = time.monotonic()
    with pytest.raises(Canceled):
        ffmpeg.run(_endless_ffmpeg(marker), deadline=30.0, duration=60.0, progress=cancel)
    assert time.monotonic() - started < 5
    assert len(calls) == 1
    assert _running(marker) == []


def test_run_reports_increasing_fractions_ending_at_one(video: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    argv = ffmpeg.audio_argv(video, tmp_path / "audio.m4a", bitrate="64k")
    ffmpeg.run(argv, deadline=30.0, duration=1.0, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)


def test_run_turns_progress_lines_into_throttled_fractions_of_the_duration() -> None:
    script = (
        "import time\n"
        "for line in ['out_time_us=N/A', 'out_time_us=500000', 'out_time_ms=600000',"
        " 'progress=continue', 'out_time_us=1000000']:\n"
        "    print(line, flush=True)\n"
        "    time.sleep(0.3 if line[-1] == '0' else 0)\n"
        "print('progress=end', flush=True)\n"
    )
    seen: list[float] = []
    ffmpeg.run(_python(script), deadline=10.0, duration=2.0, progress=seen.append)
    assert seen == [0.25, 0.3, 0.5, 1.0]


def test_run_calls_progress_at_most_about_four_times_a_second() -> None:
    script = "for i in range(20000):\n    print(f'out_time_us={i * 50}')\nprint('progress=end')\n"
    seen: list[float] = []
    ffmpeg.run(_python(script), deadline=10.0, duration=1.0, progress=seen.append)
    assert len(seen) <= 3
    assert seen[-1] == 1.0


def test_a_failing_tool_raises_processing_error_without_paths_and_logs_stderr(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "secret-name.mp4"
    argv = ffmpeg.audio_argv(missing, tmp_path / "out.m4a", bitrate="64k")
    with (
        caplog.at_level(logging.WARNING, logger="pony.ffmpeg"),
        pytest.raises(ProcessingError) as caught,
    ):
        ffmpeg.run(argv, deadline=10.0)
    assert type(caught.value) is ProcessingError
    assert "secret-name" not in caught.value.message
    assert str(tmp_path) not in caught.value.message
    assert "secret-name" in caplog.text


def test_a_missing_tool_raises_processing_error() -> None:
    with pytest.raises(ProcessingError, match="not available"):
        ffmpeg.run_capture(["pony-no-such-tool"], deadline=1.0)


def test_run_capture_returns_stdout_even_when_stderr_floods() -> None:
    script = "import sys\nsys.stderr.write('x' * 2_000_000)\nprint('ok')\n"
    assert ffmpeg.run_capture(_python(script), deadline=10.0) == b"ok\n"


def test_run_capture_kills_a_tool_past_its_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        ffmpeg.run_capture(["sleep", "5"], deadline=0.3)
    assert time.monotonic() - started < 1.5
