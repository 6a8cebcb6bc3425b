"""``pony submit``: upload a file, follow the job, print it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

FINAL = {"succeeded", "failed", "canceled"}


def add_submit_parser(sub: Any) -> None:
    submit = sub.add_parser("submit", help="upload a file and follow its job")
    submit.add_argument("file", type=Path)
    submit.add_argument("--pipeline", default="auto", help="a preset name or a JSON document")
    submit.add_argument("--wait", action="store_true", help="follow the job until it ends")
    submit.add_argument("--json", action="store_true", help="print the job as JSON")
    submit.add_argument("--url", default=os.environ.get("PONY_URL", "http://127.0.0.1:8000"))
    submit.add_argument("--api-key", default=os.environ.get("PONY_API_KEY"))
    submit.set_defaults(run=run_submit)


def run_submit(args: argparse.Namespace) -> int:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    with httpx.Client(base_url=args.url, headers=headers, timeout=60) as http:
        with args.file.open("rb") as handle:
            response = http.post(
                "/v1/jobs",
                files={"file": (args.file.name, handle)},
                data={"pipeline": args.pipeline},
            )
        if response.status_code != 202:
            print(f"refused ({response.status_code}): {response.text}", file=sys.stderr)
            return 1
        job = response.json()
        if args.wait:
            job = _follow(http, job, quiet=args.json)
    print(json.dumps(job, indent=2) if args.json else _summary(job))
    return 0 if job["status"] != "failed" else 2


def _follow(http: httpx.Client, job: dict[str, Any], *, quiet: bool) -> dict[str, Any]:
    while job["status"] not in FINAL:
        time.sleep(0.5)
        job = http.get(f"/v1/jobs/{job['id']}").json()
        if not quiet:
            print(f"\r{job['status']:>9} {job['progress'] * 100:5.1f}%", end="", file=sys.stderr)
    if not quiet:
        print(file=sys.stderr)
    return job


def _summary(job: dict[str, Any]) -> str:
    lines = [f"{job['id']} {job['status']} ({job['progress'] * 100:.0f}%)"]
    if job.get("error"):
        lines.append(f"  error {job['error']['code']}: {job['error']['message']}")
    lines += [
        f"  {o['name']}: {o['content_type']} {o['size']} bytes {o['url']}" for o in job["outputs"]
    ]
    return "\n".join(lines)
