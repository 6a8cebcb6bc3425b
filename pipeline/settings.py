"""Settings: read once from the environment (prefix ``PONY_``, a ``.env`` may supply them).

Built by ``load_settings()`` at a process's start, never at import time; tests build
``Settings(...)`` from keyword arguments.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.media.limits import Limits

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PONY_", env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = f"sqlite:///{VAR_DIR}/pony.db"
    broker_url: str = "memory://"
    storage_url: str = Field(default_factory=lambda: f"file://{(VAR_DIR / 'objects').resolve()}")
    smtp_url: str | None = None
    mail_from: str = "pony@localhost"
    public_url: str = "http://127.0.0.1:8000"
    allow_private_webhooks: bool = False
    webhook_retry_schedule: str | None = None

    auth: bool = True
    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0)
    max_pixels: int = Field(default=100_000_000, gt=0)
    max_duration: float = Field(default=4 * 3600.0, gt=0)
    ffmpeg_deadline: float = Field(default=3600.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    stall_seconds: float = Field(default=1800.0, gt=0)
    presign_outputs: bool = False
    presign_seconds: int = Field(default=900, gt=0)

    @property
    def limits(self) -> Limits:
        return Limits(
            max_pixels=self.max_pixels,
            max_duration=self.max_duration,
            deadline=self.ffmpeg_deadline,
        )


def load_settings(**overrides: object) -> Settings:
    """The process's settings: the environment, then ``overrides`` on top."""
    return Settings(**overrides)  # type: ignore[arg-type]


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, for logs and banners."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
