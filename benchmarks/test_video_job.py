"""A video job's wall time through the service against bare ffmpeg making the same renditions.

Run: ``.venv/bin/pytest benchmarks -s`` (``BENCH_RUNS`` sets N, default 3). See README.md.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.media.ffmpeg import poster_argv, transcode_argv
from pipeline.media.geometry import even_size_for_height
from pipeline.ops.video_poster import poster_time
from pipeline.ops.video_transcode import TranscodeParams
from tests.factories import ffprobe_json, make_video
from tests.integration.conftest import FINAL, download, submit

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SIZE, DURATION = (1280, 720), 10.0
OUTPUTS = ("poster", "poster_320", "mp4_720p", "mp4_360p")
POLL = 0.1


def ffmpeg_jobs(src: Path, out: Path) -> list[list[str]]:
    """The argv of the video preset's ffmpeg renditions, longest first, as the service builds
    them (poster_320 is a Pillow thumbnail of the poster, not an ffmpeg run)."""
    width, height = SIZE
    duration = float(ffprobe_json(src)["format"]["duration"])
    p = TranscodeParams()
    argvs = []
    for target in (720, 360):
        w, h = even_size_for_height(width, height, target)
        argvs.append(
            transcode_argv(
                src,
                out / f"{target}p.mp4",
                width=w,
                height=h,
                has_audio=True,
                crf=p.crf,
                preset=p.preset,
                audio_bitrate=p.audio_bitrate,
            )
        )
    at = poster_time(None, duration)
    argvs.append(poster_argv(src, out / "poster.jpg", at=at, width=width, height=height))
    return argvs


def run_ffmpeg(argv: list[str]) -> None:
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)


def bare(argvs: list[list[str]], threads: int) -> float:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(run_ffmpeg, argvs))
    return time.monotonic() - started


def through_service(api, src: Path) -> tuple[float, float, dict]:
    """Seconds from the POST to the probe step's success and to the job's end, and the job."""
    started = time.monotonic()
    job_id = submit(api, src)["id"]
    probed = None
    while True:
        job = api.get(f"/v1/jobs/{job_id}").json()
        now = time.monotonic() - started
        probe = next(s for s in job["steps"] if s["name"] == "probe")
        if probed is None and probe["status"] == "succeeded":
            probed = now
        if job["status"] in FINAL:
            return (probed if probed is not None else now), now, job
        assert now < 300, job
        time.sleep(POLL)


def test_video_job_against_bare_ffmpeg(api, tmp_path):
    src = make_video(tmp_path / "clip.mp4", size=SIZE, duration=DURATION, audio=True)
    warmup = make_video(tmp_path / "warmup.mp4")
    assert through_service(api, warmup)[2]["status"] == "succeeded"

    times: dict[str, list[float]] = {k: [] for k in ("probe", "job", "seq", "par")}
    for run in range(RUNS):
        probed, total, job = through_service(api, src)
        assert job["status"] == "succeeded", job["error"]
        times["probe"].append(probed)
        times["job"].append(total)
        got = tmp_path / f"service-{run}"
        got.mkdir()
        for name in OUTPUTS:
            assert download(api, job, name, got).stat().st_size > 0
        for key, threads in (("seq", 1), ("par", 2)):
            out = tmp_path / f"{key}-{run}"
            out.mkdir()
            argvs = ffmpeg_jobs(src, out)
            times[key].append(bare(argvs, threads))
            made = sorted(f.name for f in out.iterdir() if f.stat().st_size > 0)
            assert made == ["360p.mp4", "720p.mp4", "poster.jpg"]

    med = {key: statistics.median(values) for key, values in times.items()}
    service = med["job"]
    rows = [
        ("probe", "service: POST to probe done"),
        ("job", "service: POST to succeeded"),
        ("seq", "bare ffmpeg, sequential"),
        ("par", "bare ffmpeg, 2 at a time"),
    ]
    print(f"\nvideo job, {SIZE[0]}x{SIZE[1]} {DURATION:g} s with audio, median of {RUNS} runs")
    print(f"{'':30}{'median s':>9}{'min-max s':>13}{'service/this':>14}")
    for key, label in rows:
        spread = f"{min(times[key]):.2f}-{max(times[key]):.2f}"
        ratio = f"{service / med[key]:.2f}x" if key in ("seq", "par") else ""
        print(f"{label:30}{med[key]:9.2f}{spread:>13}{ratio:>14}")
