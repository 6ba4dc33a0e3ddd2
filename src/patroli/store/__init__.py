"""Persistent store of scan runs, posts, assessments and entities (DESIGN.md, "store/").

SQLite by default (a file next to you, no set-up), PostgreSQL for multi-user deployments
(``PATROLI_DATABASE_URL``); same code on both. The schema is created and upgraded by the
Alembic migrations bundled in ``patroli/store/migrations`` (``Store.migrate()``, run
automatically when a ``Store`` opens).

Writes are idempotent and batched: ``save_batch`` writes a whole batch in one transaction
(a killed scan keeps every batch it committed) and upserts, so running the same scan again
never duplicates a post, an assessment or an entity. ``known_keys`` tells a rerun which
posts are already assessed by the current rule set and model (resume).

All datetimes are timezone-aware UTC, in and out. Reads return plain dicts.

Example::

    store = Store()                       # $PATROLI_DATABASE_URL or ./patroli.db
    run = store.start_run("posts.jsonl", {"batch_size": 500})
    store.save_batch(run, [(post, assessment), ...])
    store.finish_run(run, status="completed", counts={"posts_read": 1})
    store.posts_with_entity("phone", "0812-0000-3185")   # pivot on an E.164 phone
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine, make_url

from patroli.store import (
    models_cases,  # noqa: F401  (cases, case_items, case_events, evidence, custody_events)
    models_labels,  # noqa: F401  (analyst_labels in the metadata)
    models_registry,  # noqa: F401  (registry tables in the metadata)
    models_reports,  # noqa: F401  (public reports of the portal)
    models_review,  # noqa: F401  (post_reviews, review_events of the console queue)
    models_takedown,  # noqa: F401  (takedown requests, items, events; approvals)
    models_web,  # noqa: F401  (users, api_tokens, audit_log)
)
from patroli.store.models import (
    AssessmentRow,
    Base,
    EntityRow,
    PostRow,
    ScanError,
    ScanRun,
    clean_text,
)
from patroli.store.values import normalize_value, query_values, stored_value
from patroli.types import Assessment, Post

__all__ = [
    "ANY_MODEL",
    "ANY_REGISTRY",
    "DEFAULT_URL",
    "ENV_VAR",
    "RUN_STATUSES",
    "Base",
    "RunNotFoundError",
    "Store",
    "StoreError",
    "alembic_config",
    "database_url",
    "normalize_value",
]

#: Default database: a SQLite file in the current directory.
DEFAULT_URL = "sqlite:///patroli.db"
#: Environment variable holding the database URL.
ENV_VAR = "PATROLI_DATABASE_URL"
#: Final statuses accepted by ``Store.finish_run`` ("running" is the status while a scan runs).
RUN_STATUSES: tuple[str, ...] = ("completed", "failed", "interrupted")
#: ``Store.known_keys(..., model_version=ANY_MODEL)``: assessments of any model version.
ANY_MODEL: object = object()
#: ``Store.known_keys(..., registry_version=ANY_REGISTRY)``: verified against any registry.
ANY_REGISTRY: object = object()
#: Length of the ``excerpt`` of a post's text in read results, in characters.
EXCERPT_CHARS = 280



def registry_version_of(assessment: Assessment) -> str:
    """The registry version an assessment was verified against
    (``verification["registry_version"]``, ``Verifier.version``), ``""`` without one."""
    return str((assessment.verification or {}).get("registry_version") or "")


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock key held while migrating ("patroli" in ASCII, as an int).
_MIGRATION_LOCK_ID = int.from_bytes(b"patroli", "big")

# Rows per statement in IN (...) lists; far below SQLite's 32,766 and psycopg's 65,535
# bound-parameter limits.
_CHUNK = 900

_scan_runs: Table = ScanRun.__table__  # type: ignore[assignment]
_scan_errors: Table = ScanError.__table__  # type: ignore[assignment]
_posts: Table = PostRow.__table__  # type: ignore[assignment]
_assessments: Table = AssessmentRow.__table__  # type: ignore[assignment]
_entities: Table = EntityRow.__table__  # type: ignore[assignment]

_T = TypeVar("_T")


class StoreError(Exception):
    """Base class of the store's errors."""


class RunNotFoundError(StoreError, KeyError):
    """No scan run has the given id."""


def database_url(url: str | None = None) -> str:
    """The SQLAlchemy URL to use.

    Precedence: ``url`` > ``$PATROLI_DATABASE_URL`` > ``"sqlite:///patroli.db"`` (a file in
    the current directory). A bare path (``"x.db"``, ``"~/data/p.db"``) means a SQLite file.
    ``postgresql://`` and ``postgres://`` URLs are given the psycopg 3 driver
    (``postgresql+psycopg://``), the one patroli installs.
    """
    u = (url or os.environ.get(ENV_VAR) or DEFAULT_URL).strip()
    if "://" not in u:
        return "sqlite:///" + os.path.expanduser(u)
    scheme, rest = u.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + rest
    return u


def _utcnow() -> datetime:
    return datetime.now(UTC)


_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return str(obj)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _dumps(obj: Any) -> str:
    """JSON text both databases accept: non-JSON objects as strings, NaN/inf as null,
    NUL and lone surrogates as U+FFFD (PostgreSQL's JSONB rejects them)."""
    try:
        s = json.dumps(obj, ensure_ascii=False, default=_json_default, allow_nan=False)
    except ValueError:
        s = json.dumps(_finite(obj), ensure_ascii=False, default=_json_default, allow_nan=False)
    if "\\u0000" in s:
        s = _NUL_ESCAPE.sub(lambda m: m.group(1) + "\ufffd", s)
    if _SURROGATE.search(s):
        s = _SURROGATE.sub("\ufffd", s)
    return s


def _chunks(seq: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _excerpt(text: str | None) -> str:
    if not text:
        return ""
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, json_serializer=_dumps, connect_args={"timeout": 30})
        in_memory = parsed.database in (None, "", ":memory:") or (
            parsed.query.get("mode") == "memory"
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # patroli emits BEGIN itself (below): pysqlite's implicit transactions
            # would make DDL autocommit and reads see a moving snapshot.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if not in_memory:
                # WAL: readers (web console) never block the scan's writer; NORMAL sync
                # is crash-safe for a killed process in WAL mode.
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # A write transaction takes the write lock up front, so a read-then-write
            # batch never fails on a lock upgrade when another process wrote meanwhile.
            write = conn.get_execution_options().get("patroli_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, json_serializer=_dumps, pool_pre_ping=True)


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Programmatic Alembic configuration of the store (no alembic.ini needed).

    connection: an open connection the migrations run on (``env.py`` uses it);
    url: used when no connection is given.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _run_dict(row: Any, n_errors: int | None = None) -> dict[str, Any]:
    d = {
        "id": row.id,
        "source": row.source,
        "options": row.options or {},
        "status": row.status,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "counts": row.counts or {},
    }
    if n_errors is not None:
        d["n_errors"] = n_errors
    return d


class Store:
    """The patroli database (SQLite or PostgreSQL).

    url: see ``database_url`` (explicit > ``$PATROLI_DATABASE_URL`` > ``./patroli.db``).
    migrate: bring the schema to the latest migration on open (default; idempotent).
    Usable as a context manager (``with Store() as store: ...``), which closes it.
    Errors of the database driver propagate as ``sqlalchemy.exc.SQLAlchemyError``.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = database_url(url)
        self.engine: Engine = _make_engine(self.url)
        self._insert = (
            pg_dialect.insert if self.engine.dialect.name == "postgresql" else sqlite_dialect.insert
        )
        if self.engine.dialect.name not in ("sqlite", "postgresql"):
            self.engine.dispose()
            raise StoreError(
                f"unsupported database {self.engine.dialect.name!r}: use SQLite or PostgreSQL"
            )
        if migrate:
            self.migrate()

    # -- life cycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close the pooled database connections (a later call reopens them)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (committed on exit, rolled back on an exception)."""
        with self.engine.connect() as conn:
            conn.execution_options(patroli_write=True)
            with conn.begin():
                yield conn

    def migrate(self) -> None:
        """Upgrade the schema to the newest Alembic revision ("head"); a no-op when current.

        Safe when several processes open a fresh database at once: SQLite's write lock
        (BEGIN IMMEDIATE) or a PostgreSQL advisory lock serialises the migrations.
        """
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK_ID)))
            command.upgrade(alembic_config(conn), "head")

    # -- scan runs --------------------------------------------------------------------

    def start_run(self, source: str, options: dict[str, Any]) -> int:
        """Record a new scan run of ``source`` with status "running"; returns its id.

        options: the scan's settings (JSON-serialisable; other objects are kept as text).
        ``started_at`` is the current UTC time.
        """
        with self._write() as conn:
            res = conn.execute(
                insert(_scan_runs).values(
                    source=source,
                    options=dict(options or {}),
                    status="running",
                    started_at=_utcnow(),
                    finished_at=None,
                    counts={},
                )
            )
            return int(res.inserted_primary_key[0])

    def add_errors(self, run_id: int, errors: list[tuple[str, str]]) -> None:
        """Record bad records / failures of a run: ``(location, message)`` pairs."""
        if not errors:
            return
        rows = [
            {"run_id": run_id, "location": str(loc), "message": str(msg)} for loc, msg in errors
        ]
        with self._write() as conn:
            conn.execute(insert(_scan_errors), rows)

    def finish_run(self, run_id: int, *, status: str, counts: dict[str, Any]) -> None:
        """Close a run: its final status, ``finished_at`` (now, UTC) and counts.

        status: one of ``RUN_STATUSES`` ("completed", "failed", "interrupted").
        counts: e.g. ``posts_read``, ``posts_new``, ``posts_skipped``, ``errors``,
            ``by_level`` (JSON-serialisable).
        Raises ValueError for an unknown status, RunNotFoundError for an unknown run.
        """
        if status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {RUN_STATUSES}, not {status!r}")
        with self._write() as conn:
            res = conn.execute(
                update(_scan_runs)
                .where(_scan_runs.c.id == run_id)
                .values(status=status, finished_at=_utcnow(), counts=dict(counts or {}))
            )
            if res.rowcount == 0:
                raise RunNotFoundError(run_id)

    def mark_stale_runs(
        self, source: str | None = None, *, exclude: Iterable[int] = ()
    ) -> list[int]:
        """Mark runs still "running" as "interrupted" (their process died); returns their ids.

        Call it when a new scan of the same ``source`` starts (``None``: every source);
        ``exclude``: run ids to leave alone (e.g. the new run). The counts of a marked run
        are completed from what it stored: ``posts_new`` (posts first seen by it) and
        ``errors`` (its recorded errors), unless it had recorded them itself.
        ``finished_at`` stays empty: when the process died is unknown.
        """
        excluded = set(exclude)
        with self._write() as conn:
            q = select(_scan_runs.c.id, _scan_runs.c.counts).where(_scan_runs.c.status == "running")
            if source is not None:
                q = q.where(_scan_runs.c.source == source)
            stale = [r for r in conn.execute(q) if r.id not in excluded]
            for r in stale:
                n_new = conn.scalar(
                    select(func.count())
                    .select_from(_posts)
                    .where(_posts.c.first_seen_run_id == r.id)
                )
                n_err = conn.scalar(
                    select(func.count())
                    .select_from(_scan_errors)
                    .where(_scan_errors.c.run_id == r.id)
                )
                counts = {"posts_new": n_new, "errors": n_err, **(r.counts or {})}
                conn.execute(
                    update(_scan_runs)
                    .where(_scan_runs.c.id == r.id, _scan_runs.c.status == "running")
                    .values(status="interrupted", counts=counts)
                )
        return [r.id for r in stale]

    # -- posts and assessments ----------------------------------------------------------

    def _post_ids(self, conn: Connection, keys: dict[str, list[str]]) -> dict[tuple[str, str], int]:
        """{(source, key): post id} of the stored posts among ``keys`` (source -> keys)."""
        found: dict[tuple[str, str], int] = {}
        for source, ks in keys.items():
            for chunk in _chunks(ks):
                q = select(_posts.c.id, _posts.c.key).where(
                    _posts.c.source == source, _posts.c.key.in_(chunk)
                )
                for r in conn.execute(q):
                    found[(source, r.key)] = r.id
        return found

    def save_batch(self, run_id: int, items: list[tuple[Post, Assessment]]) -> int:
        """Store a batch of analysed posts in ONE transaction; returns the number of new posts.

        Idempotent upsert: a post is unique on (source, key) (a re-read updates its
        fields and ``last_seen_at``, keeps ``first_seen_*``); an assessment is unique on
        (post, rule_set_version, model_version) and is replaced on re-analysis, its
        entities with it. Within a batch, a repeated (source, key) keeps the last item.
        Raises ValueError when an assessment's ``post_key`` differs from its post's key
        (nothing of the batch is stored then).
        """
        if not items:
            return 0
        batch: dict[tuple[str, str], tuple[Post, Assessment]] = {}
        for post, assessment in items:
            if assessment.post_key != post.key:
                raise ValueError(
                    f"assessment for post key {assessment.post_key!r} paired with post {post.key!r}"
                )
            batch[(clean_text(post.source or ""), clean_text(post.key))] = (post, assessment)
        keys: dict[str, list[str]] = {}
        for source, key in batch:
            keys.setdefault(source, []).append(key)
        now = _utcnow()

        post_rows = [
            {
                "source": source,
                "key": key,
                "record_id": post.record_id,
                "platform": post.platform,
                "url": post.url,
                "author": post.author,
                "posted_at": post.posted_at,
                "text": post.text or "",
                "language": post.language,
                "raw": post.raw,
                "location": post.location,
                "first_seen_run_id": run_id,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for (source, key), (post, _a) in batch.items()
        ]
        ins = self._insert(_posts)
        upsert_posts = ins.on_conflict_do_update(
            index_elements=[_posts.c.source, _posts.c.key],
            set_={
                c: ins.excluded[c]
                for c in (
                    "record_id",
                    "platform",
                    "url",
                    "author",
                    "posted_at",
                    "text",
                    "language",
                    "raw",
                    "location",
                    "last_seen_at",
                )
            },
        )

        with self._write() as conn:
            before = self._post_ids(conn, keys)
            # RETURNING makes SQLAlchemy send multi-row VALUES statements ("insertmanyvalues")
            # instead of one statement per row, and hands back the ids.
            post_ids = {
                (r.source, r.key): r.id
                for r in conn.execute(
                    upsert_posts.returning(_posts.c.id, _posts.c.source, _posts.c.key), post_rows
                )
            }

            a_rows = []
            for sk, (_post, a) in batch.items():
                a_rows.append(
                    {
                        "post_id": post_ids[sk],
                        "run_id": run_id,
                        "risk_score": int(a.risk_score),
                        "level": a.level,
                        "label": a.label,
                        "probabilities": dict(a.probabilities or {}),
                        "findings": [f.to_dict() for f in a.findings],
                        "verification": dict(a.verification or {}),
                        "signals": dict(a.signals or {}),
                        "rule_set_version": a.rule_set_version,
                        "model_version": a.model_version or "",
                        "registry_version": registry_version_of(a),
                        "analyzed_at": a.analyzed_at,
                    }
                )
            ains = self._insert(_assessments)
            upsert_assessments = ains.on_conflict_do_update(
                index_elements=[
                    _assessments.c.post_id,
                    _assessments.c.rule_set_version,
                    _assessments.c.model_version,
                ],
                set_={
                    c: ains.excluded[c]
                    for c in (
                        "run_id",
                        "risk_score",
                        "level",
                        "label",
                        "probabilities",
                        "findings",
                        "verification",
                        "signals",
                        "registry_version",
                        "analyzed_at",
                    )
                },
            ).returning(_assessments.c.id, _assessments.c.post_id)
            # post id -> assessment id
            assessment_ids = {r.post_id: r.id for r in conn.execute(upsert_assessments, a_rows)}

            ids = list(assessment_ids.values())
            for chunk in _chunks(ids):
                conn.execute(delete(_entities).where(_entities.c.assessment_id.in_(chunk)))

            e_rows = []
            for sk, (_post, a) in batch.items():
                pid = post_ids[sk]
                aid = assessment_ids[pid]
                for e in a.entities:
                    value = stored_value(e.value)
                    data = dict(e.data or {})
                    if value != e.value and len(value) < len(e.value):
                        data["full_value"] = e.value
                    span = tuple(e.span) if e.span else (None, None)
                    e_rows.append(
                        {
                            "assessment_id": aid,
                            "post_id": pid,
                            "kind": e.kind,
                            "value": value,
                            "span_start": span[0],
                            "span_end": span[1],
                            "data": data or None,
                        }
                    )
            if e_rows:
                # RETURNING again, for multi-row VALUES statements on PostgreSQL too
                conn.execute(insert(_entities).returning(_entities.c.id), e_rows).close()
        return len(post_ids) - len(before)

    def known_keys(self, source: str, keys: Iterable[str], rule_set_version: str,
                   model_version: str | None | object = ANY_MODEL,
                   registry_version: str | None | object = ANY_REGISTRY) -> set[str]:
        """The ``keys`` of ``source`` already stored WITH an assessment of
        ``rule_set_version`` and ``model_version`` (a version string, None for a
        rules-only assessment, or ``ANY_MODEL``, the default: any model version) that was
        verified against ``registry_version`` (``Verifier.version``, None for no registry
        check, or ``ANY_REGISTRY``, the default: any): a rerun skips them (resume); after
        a new rule set, model, registry snapshot or watch/allow list they are assessed
        anew."""
        wanted: dict[str, list[str]] = {}
        for k in keys:
            wanted.setdefault(clean_text(k), []).append(k)
        if not wanted:
            return set()
        found: set[str] = set()
        src = clean_text(source or "")
        with self.engine.connect() as conn:
            for chunk in _chunks(list(wanted)):
                q = (
                    select(_posts.c.key)
                    .join(_assessments, _assessments.c.post_id == _posts.c.id)
                    .where(
                        _posts.c.source == src,
                        _posts.c.key.in_(chunk),
                        _assessments.c.rule_set_version == rule_set_version,
                    )
                    .distinct()
                )
                if model_version is not ANY_MODEL:  # stored as "" without a model
                    q = q.where(_assessments.c.model_version == (model_version or ""))
                if registry_version is not ANY_REGISTRY:  # "" without a registry check
                    q = q.where(_assessments.c.registry_version == (registry_version or ""))
                for r in conn.execute(q):
                    found.update(wanted.get(r.key, ()))
        return found

    # -- reads --------------------------------------------------------------------------

    def get_run(self, run_id: int) -> dict[str, Any]:
        """One run: id, source, options, status, started_at, finished_at (UTC or None),
        counts, n_errors (stored errors). Raises RunNotFoundError."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_scan_runs).where(_scan_runs.c.id == run_id)).first()
            if row is None:
                raise RunNotFoundError(run_id)
            n = conn.scalar(
                select(func.count())
                .select_from(_scan_errors)
                .where(_scan_errors.c.run_id == run_id)
            )
        return _run_dict(row, int(n or 0))

    def runs(
        self, limit: int = 20, *, source: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest runs first (dicts as ``get_run`` without n_errors)."""
        q = select(_scan_runs).order_by(_scan_runs.c.id.desc()).limit(limit)
        if source is not None:
            q = q.where(_scan_runs.c.source == source)
        if status is not None:
            q = q.where(_scan_runs.c.status == status)
        with self.engine.connect() as conn:
            return [_run_dict(r) for r in conn.execute(q)]

    def run_errors(self, run_id: int, limit: int = 100) -> list[dict[str, Any]]:
        """Errors recorded for a run, in the order recorded: dicts of location, message."""
        q = (
            select(_scan_errors.c.location, _scan_errors.c.message)
            .where(_scan_errors.c.run_id == run_id)
            .order_by(_scan_errors.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [{"location": r.location, "message": r.message} for r in conn.execute(q)]

    def _post_columns(self) -> list[Any]:
        return [
            _posts.c.id.label("post_id"),
            _posts.c.key,
            _posts.c.source,
            _posts.c.platform,
            _posts.c.url,
            _posts.c.author,
            _posts.c.posted_at,
            func.substr(_posts.c.text, 1, EXCERPT_CHARS + 1).label("text_head"),
        ]

    @staticmethod
    def _post_dict(r: Any) -> dict[str, Any]:
        return {
            "post_id": r.post_id,
            "key": r.key,
            "source": r.source,
            "platform": r.platform,
            "url": r.url,
            "author": r.author,
            "posted_at": r.posted_at,
            "excerpt": _excerpt(r.text_head),
            "assessment_id": r.assessment_id,
            "risk_score": r.risk_score,
            "level": r.level,
            "label": r.label,
            "rule_set_version": r.rule_set_version,
            "model_version": r.model_version or None,
            "analyzed_at": r.analyzed_at,
        }

    def posts_with_entity(self, kind: str, value: str, limit: int = 100) -> list[dict[str, Any]]:
        """Every post sharing an entity value (the pivot), highest risk first.

        value: as stored (normalised, e.g. E.164 "+6281200003185") or as typed by hand
            ("0812-0000-3185", "t.me/Loker", "WWW.Site.com"): see ``values.query_values``.
        Each dict: post_id, key, source, platform, url, author, posted_at (UTC or None),
        excerpt (first ``EXCERPT_CHARS`` characters of the text), and the post's latest
        assessment holding the value: assessment_id, risk_score, level, label,
        rule_set_version, model_version, analyzed_at.
        """
        values = query_values(kind, value)
        holders = select(_entities.c.assessment_id).where(
            _entities.c.kind == kind, _entities.c.value.in_(values)
        )
        ranked = (
            select(
                _assessments,
                func.row_number()
                .over(
                    partition_by=_assessments.c.post_id,
                    order_by=(_assessments.c.analyzed_at.desc(), _assessments.c.id.desc()),
                )
                .label("rn"),
            )
            .where(_assessments.c.id.in_(holders))
            .subquery()
        )
        q = (
            select(
                *self._post_columns(),
                ranked.c.id.label("assessment_id"),
                ranked.c.risk_score,
                ranked.c.level,
                ranked.c.label,
                ranked.c.rule_set_version,
                ranked.c.model_version,
                ranked.c.analyzed_at,
            )
            .join_from(ranked, _posts, _posts.c.id == ranked.c.post_id)
            .where(ranked.c.rn == 1)
            .order_by(ranked.c.risk_score.desc(), _posts.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [self._post_dict(r) for r in conn.execute(q)]

    def entity_counts(self, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The most shared entity values: dicts of kind, value, n_posts (distinct posts),
        max_risk (highest risk score of an assessment holding it); most posts first."""
        n_posts = func.count(_entities.c.post_id.distinct()).label("n_posts")
        max_risk = func.max(_assessments.c.risk_score).label("max_risk")
        q = (
            select(_entities.c.kind, _entities.c.value, n_posts, max_risk)
            .join_from(_entities, _assessments, _assessments.c.id == _entities.c.assessment_id)
            .group_by(_entities.c.kind, _entities.c.value)
            .order_by(n_posts.desc(), max_risk.desc(), _entities.c.kind, _entities.c.value)
            .limit(limit)
        )
        if kind is not None:
            q = q.where(_entities.c.kind == kind)
        with self.engine.connect() as conn:
            return [
                {
                    "kind": r.kind,
                    "value": r.value,
                    "n_posts": int(r.n_posts),
                    "max_risk": r.max_risk,
                }
                for r in conn.execute(q)
            ]

    def top_assessments(
        self,
        limit: int = 50,
        *,
        run_id: int | Iterable[int] | None = None,
        level: str | None = None,
        label: str | None = None,
        source: str | None = None,
        rule_set_version: str | None = None,
    ) -> list[dict[str, Any]]:
        """The highest-risk assessments first, with their posts and entities.

        run_id: only assessments written by this run (or these runs: a resumed scan's
            report passes the interrupted run's id too); level / label / source /
            rule_set_version: equality filters. A post assessed by several rule-set
            versions appears once per version unless ``rule_set_version`` is given.
        Each dict: the keys of ``posts_with_entity`` plus run_id, probabilities,
        findings (``Finding.to_dict()`` dicts), verification, and entities (dicts of
        kind, value, span, data).
        """
        a = _assessments
        q = (
            select(
                *self._post_columns(),
                a.c.id.label("assessment_id"),
                a.c.run_id,
                a.c.risk_score,
                a.c.level,
                a.c.label,
                a.c.probabilities,
                a.c.findings,
                a.c.verification,
                a.c.rule_set_version,
                a.c.model_version,
                a.c.analyzed_at,
            )
            .join_from(a, _posts, _posts.c.id == a.c.post_id)
            .order_by(a.c.risk_score.desc(), a.c.analyzed_at.desc(), a.c.id.desc())
            .limit(limit)
        )
        if run_id is not None:
            ids = [run_id] if isinstance(run_id, int) else list(run_id)
            q = q.where(a.c.run_id.in_(ids))
        conds = [
            (a.c.level, level),
            (a.c.label, label),
            (_posts.c.source, source),
            (a.c.rule_set_version, rule_set_version),
        ]
        for col, val in conds:
            if val is not None:
                q = q.where(col == val)
        with self.engine.connect() as conn:
            out = []
            for r in conn.execute(q):
                d = self._post_dict(r)
                d.update(
                    run_id=r.run_id,
                    probabilities=r.probabilities or {},
                    findings=r.findings or [],
                    verification=r.verification or {},
                    entities=[],
                )
                out.append(d)
            by_id = {d["assessment_id"]: d for d in out}
            for chunk in _chunks(list(by_id)):
                eq = (
                    select(_entities)
                    .where(_entities.c.assessment_id.in_(chunk))
                    .order_by(_entities.c.id)
                )
                for e in conn.execute(eq):
                    by_id[e.assessment_id]["entities"].append(
                        {
                            "kind": e.kind,
                            "value": e.value,
                            "span": [e.span_start, e.span_end],
                            "data": e.data or {},
                        }
                    )
        return out

    def table_counts(self) -> dict[str, int]:
        """Row counts of the store's tables: {"scan_runs": n, "posts": n, ...}."""
        tables = (_scan_runs, _scan_errors, _posts, _assessments, _entities)
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables
            }
