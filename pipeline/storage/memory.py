"""Objects in a dict: for tests of the core."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import NotFound


class MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def ensure_ready(self) -> None:
        pass

    def ping(self) -> None:
        pass

    def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        with self._lock:
            self.objects[key] = (path.read_bytes(), content_type)

    def get_file(self, key: str, path: Path) -> None:
        path.write_bytes(self._get(key))

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        return iter([self._get(key)])

    def delete_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self.objects if k.startswith(prefix)]:
                del self.objects[key]

    def presigned_url(self, key: str, *, seconds: int) -> str | None:
        return None

    def _get(self, key: str) -> bytes:
        with self._lock:
            if key not in self.objects:
                raise NotFound("no such object")
            return self.objects[key][0]
