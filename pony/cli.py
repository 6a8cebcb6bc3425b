"""The ``pony`` command: dev, api, worker, tenants, submit, db."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from pipeline.settings import Settings, load_settings, redact
from pony import client, wiring
from pony.services import api_services, dev_services, worker_process
from workers.pool import run_processes

QUEUES = ("light", "heavy")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pony", description="Pony Express media pipeline")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    dev = sub.add_parser("dev", help="everything in one process on embedded defaults")
    _host_port(dev)
    dev.add_argument("--auth", action="store_true", help="require API keys (off by default)")
    dev.add_argument("--threads", type=int, default=2, help="worker threads")
    dev.set_defaults(run=_dev)

    api = sub.add_parser("api", help="the HTTP API")
    _host_port(api)
    api.set_defaults(run=_api)

    worker = sub.add_parser("worker", help="Dramatiq workers")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--threads", type=int, default=2)
    worker.add_argument("--queues", nargs="+", choices=QUEUES, default=list(QUEUES))
    worker.set_defaults(run=_worker)

    tenants = sub.add_parser("tenants", help="manage tenants").add_subparsers(required=True)
    create = tenants.add_parser("create", help="create a tenant; prints its API key")
    create.add_argument("name")
    create.set_defaults(run=_tenants_create)
    rotate = tenants.add_parser(
        "rotate-secret", help="new webhook secret; the old one also signs for 24 h"
    )
    rotate.add_argument("name")
    rotate.set_defaults(run=_tenants_rotate)

    db = sub.add_parser("db", help="the job store").add_subparsers(required=True)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(run=_db_upgrade)

    client.add_submit_parser(sub)
    return parser


def _host_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def _dev(args: argparse.Namespace) -> int:
    settings = load_settings(broker_url="memory://", auth=args.auth)
    services, worker = dev_services(settings, threads=args.threads)
    url = f"http://{args.host}:{args.port}"
    print(f"Pony Express (dev) on {url}", flush=True)
    stores = f"database {redact(settings.database_url)}  objects {redact(settings.storage_url)}"
    print(f"  {stores}", flush=True)
    if services.open_tenant is not None:
        print("  auth is OFF: every request acts as tenant 'dev' (use --auth to require keys)")
    try:
        _serve(create_app(services), args)
    finally:
        worker.stop()
    return 0


def _api(args: argparse.Namespace) -> int:
    settings = _production_settings()
    _serve(create_app(api_services(settings)), args)
    return 0


def _serve(app: FastAPI, args: argparse.Namespace) -> None:
    """Serve ``app``; open event streams get 10 s to end at shutdown, not forever."""
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", timeout_graceful_shutdown=10)


def _worker(args: argparse.Namespace) -> int:
    _production_settings()
    if args.processes <= 1:
        worker_process(tuple(args.queues), args.threads)
    else:
        run_processes(worker_process, (tuple(args.queues), args.threads), args.processes)
    return 0


def _tenants_create(args: argparse.Namespace) -> int:
    tenant = wiring.make_store(load_settings()).create_tenant(args.name)
    print(
        json.dumps(
            {
                "tenant": tenant.tenant,
                "name": tenant.name,
                "api_key": tenant.api_key,
                "webhook_secret": tenant.webhook_secret,
            }
        )
    )
    return 0


def _tenants_rotate(args: argparse.Namespace) -> int:
    secret = wiring.make_store(load_settings()).rotate_secret(args.name)
    print(json.dumps({"name": args.name, "webhook_secret": secret}))
    return 0


def _db_upgrade(_args: argparse.Namespace) -> int:
    wiring.make_store(load_settings())
    print("schema is up to date")
    return 0


def _production_settings() -> Settings:
    settings = load_settings()
    if settings.broker_url.startswith("memory://"):
        sys.exit("pony api/worker need PONY_BROKER_URL=amqp://...; for one process, use 'pony dev'")
    return settings
