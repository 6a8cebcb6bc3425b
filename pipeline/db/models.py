"""Tables. The database is the truth about tenants, jobs, steps and outputs."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

SCHEMA_VERSION = 2
metadata = MetaData()

schema_info = Table(
    "pony_schema",
    metadata,
    Column("version", Integer, primary_key=True),
)

tenants = Table(
    "tenants",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("api_key_hash", String(64), nullable=False, unique=True),
    Column("webhook_secret", String(200), nullable=False),
    Column("previous_webhook_secret", String(200), nullable=True),
    Column("previous_secret_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), ForeignKey("tenants.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("pipeline", String(200), nullable=False),
    Column("expand", String(32), nullable=True),
    Column("source", JSON, nullable=False),
    Column("media", JSON, nullable=True),
    Column("error", JSON, nullable=True),
    Column("metadata", JSON, nullable=False),
    Column("webhook_url", String(2048), nullable=True),
    Column("notify_email", String(320), nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # Bumped by every write a reader could see: event stream ids, and "did anything change?"
    Column("version", Integer, nullable=False, default=1, server_default="1"),
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_idempotency"),
)

steps = Table(
    "steps",
    metadata,
    Column("job_id", String(40), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("op", String(64), nullable=False),
    Column("use", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    Column("queue", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("error", JSON, nullable=True),
    Column("run_token", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

outputs = Table(
    "outputs",
    metadata,
    Column("job_id", String(40), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("step", String(64), nullable=False),
    Column("key", String(512), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("duration", Float, nullable=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant_id", String(40), nullable=False, index=True),
    Column("job_id", String(40), nullable=False, index=True),
    Column("event", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("target", String(2048), nullable=False),
    Column("payload", JSON, nullable=True),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True, index=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("delivery_id", String(40), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("duration_ms", Integer, nullable=False),
)
