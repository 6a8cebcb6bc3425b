"""A real webhook receiver on loopback for tests: answers each path from a script and records
every request (the last scripted answer repeats)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drip: float = 0.0
    """Seconds between single bytes of the status line and headers (a slow receiver)."""


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        """With ``tls``, an https receiver (and the SNI names it was asked for in ``sni``)."""
        self.requests: list[Received] = []
        self.scripts: dict[str, list[Answer]] = {}
        self.sni: list[str | None] = []
        self.scheme = "https" if tls else "http"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls is not None:
            tls.sni_callback = self._record_sni
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _record_sni(self, _sock: object, name: str | None, _context: object) -> None:
        self.sni.append(name)

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def script(self, path: str, *answers: Answer) -> None:
        self.scripts[path] = list(answers)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int, *, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(got := self.received(path)) >= count:
                return got
            time.sleep(0.05)
        pytest.fail(f"{path} received {len(self.received(path))} requests, not {count}")

    def _answer(self, path: str) -> Answer:
        with self._lock:
            script = self.scripts.get(path) or [Answer()]
            return script.pop(0) if len(script) > 1 else script[0]

    def _handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    receiver.requests.append(Received(self.path, headers, body))
                self.reply(receiver._answer(self.path))

            def reply(self, answer: Answer) -> None:
                head = f"HTTP/1.1 {answer.status} X\r\n" + "".join(
                    f"{k}: {v}\r\n" for k, v in answer.headers.items()
                )
                head += f"Content-Length: {len(answer.body)}\r\n\r\n"
                try:
                    if answer.drip:
                        for byte in head.encode():
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(answer.drip)
                    else:
                        self.wfile.write(head.encode())
                    self.wfile.write(answer.body)
                except OSError:
                    self.close_connection = True  # the sender gave up on us

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
