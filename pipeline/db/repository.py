"""The job store: every read and every compare-and-set move of jobs, steps and outputs.

Transitions are ``UPDATE ... WHERE status IN (...)``, so two deliveries of one message cannot
both finish a step, and exactly one caller ends a job.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    Row,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from pipeline.db import models as m
from pipeline.db.deliveries import create_deliveries
from pipeline.errors import Conflict, NotFound
from pipeline.feed import CHANNEL, Feed
from pipeline.graph import StepSpec
from pipeline.ids import new_id
from pipeline.jobs import (
    FINAL_JOB_STATUSES,
    NOT_STARTED,
    Job,
    JobError,
    JobStatus,
    OutputRecord,
    Source,
    Step,
    StepStatus,
    job_progress,
)

LIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def now() -> datetime:
    return datetime.now(UTC)


def new_webhook_secret() -> str:
    """``whsec_`` and 24 random bytes in base64, as the Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class NewTenant:
    tenant: str
    name: str
    api_key: str
    webhook_secret: str


@dataclass(frozen=True, kw_only=True)
class NewJob:
    tenant_id: str
    pipeline: str
    expand: str | None
    source: Source
    metadata: dict[str, Any]
    webhook_url: str | None
    notify_email: str | None
    idempotency_key: str | None
    steps: Sequence[StepSpec]
    id: str


def make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class JobStore:
    """Every write a reader could see bumps the job's ``version`` and announces the change:
    ``pg_notify`` in the transaction on PostgreSQL, else ``feed.publish`` after the commit."""

    def __init__(self, engine: Engine, *, feed: Feed | None = None) -> None:
        self.engine = engine
        self.feed = feed
        self._notify_in_sql = engine.dialect.name == "postgresql"

    @classmethod
    def from_url(cls, url: str, *, feed: Feed | None = None) -> JobStore:
        return cls(make_engine(url), feed=feed)

    # schema and health

    def upgrade(self) -> None:
        """Create the schema when missing (version ``SCHEMA_VERSION``).

        On PostgreSQL an advisory lock makes processes that start together take turns.
        """
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7243011)"))
            m.metadata.create_all(conn)
            _add_job_version(conn)
            if conn.execute(select(m.schema_info.c.version)).first() is None:
                conn.execute(insert(m.schema_info).values(version=m.SCHEMA_VERSION))
            else:
                conn.execute(update(m.schema_info).values(version=m.SCHEMA_VERSION))

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(select(1))

    # tenants

    def create_tenant(self, name: str) -> NewTenant:
        tenant = NewTenant(
            tenant=new_id("ten"),
            name=name,
            api_key="pk_" + secrets.token_urlsafe(32),
            webhook_secret=new_webhook_secret(),
        )
        row = {
            "id": tenant.tenant,
            "name": name,
            "api_key_hash": hash_key(tenant.api_key),
            "webhook_secret": tenant.webhook_secret,
            "created_at": now(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(m.tenants).values(**row))
        except IntegrityError:
            raise Conflict(f"a tenant named {name!r} exists already") from None
        return tenant

    def tenant_for_key(self, api_key: str) -> str | None:
        query = select(m.tenants.c.id).where(m.tenants.c.api_key_hash == hash_key(api_key))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def webhook_secrets(self, tenant_id: str) -> list[str]:
        """The secrets to sign with: the current one, and the previous one for a day after a
        rotation, so receivers can switch over."""
        query = select(
            m.tenants.c.webhook_secret,
            m.tenants.c.previous_webhook_secret,
            m.tenants.c.previous_secret_until,
        ).where(m.tenants.c.id == tenant_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return []
        until = _aware(row.previous_secret_until)
        keep_previous = row.previous_webhook_secret and until is not None and until > now()
        return [row.webhook_secret, *([row.previous_webhook_secret] if keep_previous else [])]

    def rotate_secret(self, name: str, *, overlap: timedelta = timedelta(hours=24)) -> str:
        """Give tenant ``name`` a new webhook secret; the old one keeps signing for ``overlap``."""
        secret = new_webhook_secret()
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(m.tenants)
                .where(m.tenants.c.name == name)
                .values(
                    previous_webhook_secret=m.tenants.c.webhook_secret,
                    previous_secret_until=now() + overlap,
                    webhook_secret=secret,
                )
            ).rowcount
        if not moved:
            raise NotFound(f"no tenant named {name!r}")
        return secret

    def tenant_named(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(m.tenants.c.id).where(m.tenants.c.name == name)).scalar()

    # jobs

    def create_job(self, job: NewJob) -> Job:
        """Insert a job and its steps in one transaction; ``Conflict`` on a reused key."""
        stamp = now()
        row = {
            "id": job.id,
            "tenant_id": job.tenant_id,
            "status": JobStatus.QUEUED.value,
            "pipeline": job.pipeline,
            "expand": job.expand,
            "source": _source_dict(job.source),
            "metadata": job.metadata,
            "webhook_url": job.webhook_url,
            "notify_email": job.notify_email,
            "idempotency_key": job.idempotency_key,
            "created_at": stamp,
            "updated_at": stamp,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(m.jobs).values(**row))
                _insert_steps(conn, job.id, job.steps, start=0)
        except IntegrityError:
            raise Conflict("a job with this Idempotency-Key exists already") from None
        return self.get_job(job.id)

    def job_for_idempotency_key(self, tenant_id: str, key: str) -> Job | None:
        query = select(m.jobs.c.id).where(
            and_(m.jobs.c.tenant_id == tenant_id, m.jobs.c.idempotency_key == key)
        )
        with self.engine.connect() as conn:
            job_id = conn.execute(query).scalar()
        return self.get_job(job_id) if job_id else None

    def get_job(self, job_id: str, *, tenant_id: str | None = None) -> Job:
        return self.read_job(job_id, tenant_id=tenant_id)[0]

    def read_job(self, job_id: str, *, tenant_id: str | None = None) -> tuple[Job, int]:
        """The job and its version. The job row is read first, so the steps and outputs are
        at least as new as the version says."""
        with self.engine.connect() as conn:
            row = conn.execute(select(m.jobs).where(m.jobs.c.id == job_id)).first()
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFound(f"no job {job_id!r}")
            step_rows = conn.execute(
                select(m.steps).where(m.steps.c.job_id == job_id).order_by(m.steps.c.position)
            ).all()
            output_rows = conn.execute(
                select(m.outputs).where(m.outputs.c.job_id == job_id).order_by(m.outputs.c.name)
            ).all()
        job = _job(row, [_step(r) for r in step_rows], [_output(r) for r in output_rows])
        return job, row.version

    def list_jobs(
        self, tenant_id: str, *, status: JobStatus | None, limit: int, cursor: str | None
    ) -> tuple[list[Job], str | None]:
        """Newest first; the cursor is the last id of the previous page."""
        query = select(m.jobs.c.id).where(m.jobs.c.tenant_id == tenant_id)
        if status is not None:
            query = query.where(m.jobs.c.status == status.value)
        if cursor:
            query = query.where(m.jobs.c.id < cursor)
        query = query.order_by(m.jobs.c.id.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        page = [self.get_job(job_id) for job_id in ids[:limit]]
        return page, (ids[limit - 1] if len(ids) > limit else None)

    def count_by_status(self) -> dict[str, int]:
        query = select(m.jobs.c.status, func.count()).group_by(m.jobs.c.status)
        with self.engine.connect() as conn:
            return {status: count for status, count in conn.execute(query).all()}

    def delete_job(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(m.outputs).where(m.outputs.c.job_id == job_id))
            conn.execute(delete(m.steps).where(m.steps.c.job_id == job_id))
            conn.execute(delete(m.jobs).where(m.jobs.c.id == job_id))
            self._notify(conn, job_id)
        self._announce(job_id)

    def finish_job(self, job_id: str, status: JobStatus, error: JobError | None = None) -> bool:
        """Move a live job to a final status; ``True`` only for the one caller that did it."""
        stamp = now()
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(m.jobs)
                .where(and_(m.jobs.c.id == job_id, m.jobs.c.status.in_(LIVE)))
                .values(
                    status=status.value,
                    error=error.to_dict() if error else None,
                    updated_at=stamp,
                    finished_at=stamp,
                )
            ).rowcount
            if moved:
                conn.execute(
                    update(m.steps)
                    .where(
                        and_(m.steps.c.job_id == job_id, m.steps.c.status.in_(_values(NOT_STARTED)))
                    )
                    .values(status=StepStatus.CANCELED.value, finished_at=stamp)
                )
                _record_notifications(conn, job_id, f"job.{status.value}", stamp)
                self._bump(conn, job_id)
        return self._announced(job_id, bool(moved))

    def claim_stalled(self, *, before: datetime, limit: int = 20) -> list[str]:
        """Live jobs untouched since ``before`` with no step running: their next message may
        have been lost. Each is claimed by moving its ``updated_at``, so one sweeper takes it."""
        running = select(m.steps.c.job_id).where(m.steps.c.status == StepStatus.RUNNING.value)
        query = (
            select(m.jobs.c.id, m.jobs.c.updated_at)
            .where(m.jobs.c.status.in_(LIVE), m.jobs.c.updated_at < before)
            .where(m.jobs.c.id.not_in(running))
            .limit(limit)
        )
        claimed = []
        with self.engine.begin() as conn:
            for job_id, seen in conn.execute(query).all():
                if conn.execute(
                    update(m.jobs)
                    .where(m.jobs.c.id == job_id, m.jobs.c.updated_at == seen)
                    .values(updated_at=now())
                ).rowcount:
                    claimed.append(job_id)
        return claimed

    def set_media(self, job_id: str, media: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(m.jobs).where(m.jobs.c.id == job_id).values(media=media, updated_at=now())
            )
            self._bump(conn, job_id)
        self._announce(job_id)

    def expand(self, job_id: str, specs: Sequence[StepSpec]) -> bool:
        """Add the steps a preset grew into, once: only the caller that claims it adds them."""
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(m.jobs)
                .where(and_(m.jobs.c.id == job_id, m.jobs.c.expand.is_not(None)))
                .values(expand=None, updated_at=now())
            ).rowcount
            if claimed:
                count = conn.execute(select(m.steps.c.name).where(m.steps.c.job_id == job_id)).all()
                _insert_steps(conn, job_id, specs, start=len(count))
                self._bump(conn, job_id)
        return self._announced(job_id, bool(claimed))

    # steps

    def start_step(self, job_id: str, name: str, token: str) -> Step | None:
        """Claim a step for the message ``token``; ``None`` when it is not this message's to run.

        A step still ``running`` under the same token was left by a worker that died: the
        broker delivers the message again and the claim succeeds again.
        """
        stamp = now()
        mine = and_(m.steps.c.job_id == job_id, m.steps.c.name == name)
        claimable = m.steps.c.status.in_(_values(NOT_STARTED)) | and_(
            m.steps.c.status == StepStatus.RUNNING.value, m.steps.c.run_token == token
        )
        with self.engine.begin() as conn:
            live = (
                conn.execute(select(m.jobs.c.status).where(m.jobs.c.id == job_id)).scalar() in LIVE
            )
            if not live:
                return None
            claimed = conn.execute(
                update(m.steps)
                .where(and_(mine, claimable))
                .values(
                    status=StepStatus.RUNNING.value,
                    run_token=token,
                    attempts=m.steps.c.attempts + 1,
                    started_at=stamp,
                    progress=0.0,
                )
            ).rowcount
            if not claimed:
                return None
            conn.execute(
                update(m.jobs)
                .where(and_(m.jobs.c.id == job_id, m.jobs.c.status == JobStatus.QUEUED.value))
                .values(status=JobStatus.RUNNING.value, updated_at=stamp)
            )
            row = conn.execute(select(m.steps).where(mine)).one()
            self._bump(conn, job_id)
        self._announce(job_id)
        return _step(row)

    def set_progress(self, job_id: str, name: str, progress: float) -> JobStatus:
        """Record a running step's progress; answer the job's status (to notice a cancel)."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(m.steps)
                .where(_steps(job_id, [name], StepStatus.RUNNING))
                .values(progress=max(0.0, min(progress, 1.0)))
            ).rowcount
            if moved:
                self._bump(conn, job_id)
            status = conn.execute(select(m.jobs.c.status).where(m.jobs.c.id == job_id)).scalar()
        self._announced(job_id, bool(moved))
        return JobStatus(status) if status else JobStatus.CANCELED

    def succeed_step(self, job_id: str, name: str, output: OutputRecord | None) -> bool:
        """End a step as succeeded with its output; once its job has ended (canceled, failed or
        deleted) the step is canceled instead, its output not recorded, and the answer False."""
        with self.engine.begin() as conn:
            live = conn.execute(select(m.jobs.c.status).where(m.jobs.c.id == job_id)).scalar()
            status = StepStatus.SUCCEEDED if live in LIVE else StepStatus.CANCELED
            moved = _end_step(conn, job_id, name, status, None)
            if moved and output is not None and status == StepStatus.SUCCEEDED:
                conn.execute(
                    delete(m.outputs).where(
                        and_(m.outputs.c.job_id == job_id, m.outputs.c.name == output.name)
                    )
                )
                conn.execute(insert(m.outputs).values(job_id=job_id, **_output_dict(output)))
            if moved:
                self._bump(conn, job_id)
        return self._announced(job_id, moved) and status == StepStatus.SUCCEEDED

    def fail_step(self, job_id: str, name: str, status: StepStatus, error: JobError | None) -> bool:
        with self.engine.begin() as conn:
            moved = _end_step(conn, job_id, name, status, error)
            if moved:
                self._bump(conn, job_id)
        return self._announced(job_id, moved)

    def mark_queued(self, job_id: str, names: Iterable[str]) -> list[str]:
        """Move pending steps to queued; answer the ones this caller moved."""
        moved = []
        with self.engine.begin() as conn:
            for name in names:
                if conn.execute(
                    update(m.steps)
                    .where(_steps(job_id, [name], StepStatus.PENDING))
                    .values(status=StepStatus.QUEUED.value)
                ).rowcount:
                    moved.append(name)
            if moved:
                self._bump(conn, job_id)
        self._announced(job_id, bool(moved))
        return moved

    def unqueue(self, job_id: str, names: Iterable[str]) -> None:
        """Put steps whose message the broker refused back to pending."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(m.steps)
                .where(_steps(job_id, names, StepStatus.QUEUED))
                .values(status=StepStatus.PENDING.value)
            ).rowcount
            if moved:
                self._bump(conn, job_id)
        self._announced(job_id, bool(moved))

    # the change feed

    def _bump(self, conn: Any, job_id: str) -> None:
        """Inside a write: the job reads differently now."""
        conn.execute(
            update(m.jobs)
            .where(m.jobs.c.id == job_id)
            .values(version=m.jobs.c.version + 1, updated_at=now())
        )
        self._notify(conn, job_id)

    def _notify(self, conn: Any, job_id: str) -> None:
        if self._notify_in_sql:  # delivered at commit, to every listening process
            conn.execute(select(func.pg_notify(CHANNEL, job_id)))

    def _announce(self, job_id: str) -> None:
        """After the commit: tell this process's streams (PostgreSQL's NOTIFY did it already)."""
        if self.feed is not None and not self._notify_in_sql:
            self.feed.publish(job_id)

    def _announced(self, job_id: str, changed: bool) -> bool:
        if changed:
            self._announce(job_id)
        return changed


def _add_job_version(conn: Any) -> None:
    """Schema 1 to 2: ``jobs.version``, for databases made before it existed."""
    if "version" not in {c["name"] for c in inspect(conn).get_columns("jobs")}:
        conn.execute(text("ALTER TABLE jobs ADD COLUMN version INTEGER NOT NULL DEFAULT 1"))


def _record_notifications(conn: Any, job_id: str, event: str, stamp: datetime) -> None:
    row = conn.execute(
        select(m.jobs.c.tenant_id, m.jobs.c.webhook_url, m.jobs.c.notify_email).where(
            m.jobs.c.id == job_id
        )
    ).one()
    targets = [("webhook", row.webhook_url)] if row.webhook_url else []
    targets += [("email", row.notify_email)] if row.notify_email else []
    create_deliveries(
        conn, tenant_id=row.tenant_id, job_id=job_id, event=event, targets=targets, at=stamp
    )


def _steps(job_id: str, names: Iterable[str], *statuses: StepStatus) -> ColumnElement[bool]:
    """The rows of ``names`` in job ``job_id`` that are in one of ``statuses``."""
    return and_(
        m.steps.c.job_id == job_id,
        m.steps.c.name.in_(list(names)),
        m.steps.c.status.in_(_values(statuses)),
    )


def _end_step(
    conn: Any, job_id: str, name: str, status: StepStatus, error: JobError | None
) -> bool:
    return bool(
        conn.execute(
            update(m.steps)
            .where(_steps(job_id, [name], *NOT_STARTED, StepStatus.RUNNING))
            .values(
                status=status.value,
                progress=1.0 if status == StepStatus.SUCCEEDED else m.steps.c.progress,
                error=error.to_dict() if error else None,
                finished_at=now(),
            )
        ).rowcount
    )


def _insert_steps(conn: Any, job_id: str, specs: Sequence[StepSpec], *, start: int) -> None:
    for position, spec in enumerate(specs, start=start):
        conn.execute(
            insert(m.steps).values(
                job_id=job_id,
                name=spec.name,
                position=position,
                op=spec.op,
                use=spec.use,
                params=spec.params,
                queue=spec.queue,
                status=StepStatus.PENDING.value,
                progress=0.0,
                attempts=0,
            )
        )


def _values(statuses: Iterable[StepStatus]) -> list[str]:
    return [s.value for s in statuses]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _source_dict(source: Source) -> dict[str, Any]:
    return {
        "filename": source.filename,
        "size": source.size,
        "content_type": source.content_type,
        "sha256": source.sha256,
        "key": source.key,
    }


def _output_dict(output: OutputRecord) -> dict[str, Any]:
    return {
        "name": output.name,
        "step": output.step,
        "key": output.key,
        "content_type": output.content_type,
        "size": output.size,
        "width": output.width,
        "height": output.height,
        "duration": output.duration,
    }


def _error(value: dict[str, Any] | None) -> JobError | None:
    return JobError(**value) if value else None


def _step(row: Row[Any]) -> Step:
    return Step(
        name=row.name,
        op=row.op,
        use=row.use,
        params=dict(row.params),
        queue=row.queue,
        status=StepStatus(row.status),
        progress=row.progress,
        error=_error(row.error),
        run_token=row.run_token,
        attempts=row.attempts,
    )


def _output(row: Row[Any]) -> OutputRecord:
    return OutputRecord(
        name=row.name,
        step=row.step,
        key=row.key,
        content_type=row.content_type,
        size=row.size,
        width=row.width,
        height=row.height,
        duration=row.duration,
    )


def _job(row: Row[Any], steps: list[Step], outputs: list[OutputRecord]) -> Job:
    status = JobStatus(row.status)
    return Job(
        id=row.id,
        tenant_id=row.tenant_id,
        status=status,
        pipeline=row.pipeline,
        source=Source(**row.source),
        created_at=_aware(row.created_at) or now(),
        updated_at=_aware(row.updated_at) or now(),
        finished_at=_aware(row.finished_at),
        progress=1.0 if status == JobStatus.SUCCEEDED else job_progress(steps),
        media=row.media,
        error=_error(row.error),
        metadata=dict(row._mapping["metadata"]),
        webhook_url=row.webhook_url,
        notify_email=row.notify_email,
        steps=tuple(steps),
        outputs=tuple(outputs),
    )


__all__ = ["FINAL_JOB_STATUSES", "JobStore", "NewJob", "NewTenant"]
