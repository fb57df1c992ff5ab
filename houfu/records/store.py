"""Decision records: what houfu told whom, when, and under which rules, kept so an auditor can ask.

Every determination made with ``--record`` (and, later, through the service) is stored with the input as it
was accepted, the normalised facts, the whole report, ``kb_version``, the houfu version, the ``as_of`` date,
the time and the user. Records are append-only: the database refuses an UPDATE or DELETE (a trigger), and a
correction is a new record for the same household.

Storage is SQLite in a data directory by default (no server), or PostgreSQL through a URL; SQLAlchemy 2 with
Alembic migrations, which run when the store is opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from houfu.engine.evaluator import EngineKind, Evaluator, flatten
from houfu.engine.results import Amount, Explanation, Report
from houfu.kb.facts import Household, Site

from . import finder

__all__ = ["GENESIS", "MIN_PASSWORD", "ROLES", "TOKEN_PREFIX", "AmbiguousRecord", "Answer", "ChainCheck",
           "DecisionRecord", "HouseholdHit", "RecordDiff", "RecordError", "RecordRead", "RecordStore",
           "RecordSummary", "Replay", "ScreenRecord", "Users", "WorklistItem", "default_url", "diff_records",
           "explain_record", "password_problem", "record_hash"]

#: The table as the migrations create it (houfu/records/migrations/versions); the migrations are the source of truth.
_TABLE = sa.Table(
    "decision_records", sa.MetaData(),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("user_name", sa.String(100)),
    sa.Column("entity", sa.String(10)),
    sa.Column("subject_id", sa.String(200)),
    sa.Column("as_of", sa.Date),
    sa.Column("kb_version", sa.String(20)),
    sa.Column("houfu_version", sa.String(40)),
    sa.Column("input", sa.Text),
    sa.Column("facts", sa.Text),
    sa.Column("report", sa.Text),
    sa.Column("received", sa.Text),
)

_SCREENS = sa.Table(
    "screen_runs", sa.MetaData(),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("user_name", sa.String(100)),
    sa.Column("as_of", sa.Date),
    sa.Column("kb_version", sa.String(20)),
    sa.Column("houfu_version", sa.String(40)),
    sa.Column("files", sa.Text),
    sa.Column("rows_in", sa.Integer),
    sa.Column("screened", sa.Integer),
    sa.Column("rejected", sa.Integer),
    sa.Column("summary", sa.Text),
)

_LISTS = sa.Table(
    "worklist_lists", sa.MetaData(),
    sa.Column("screen_id", sa.String(32), primary_key=True),
    sa.Column("department", sa.String(80), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("rows", sa.Integer),
    sa.Column("items", sa.LargeBinary),
)

_SIGHTINGS = sa.Table(
    "list_sightings", sa.MetaData(),
    sa.Column("screen_id", sa.String(32), primary_key=True),
    sa.Column("list_id", sa.String(80), primary_key=True),
    sa.Column("as_of", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("members", sa.LargeBinary),
)

_ANSWERS = sa.Table(
    "worklist_answers", sa.MetaData(),
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("digest", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("user_name", sa.String(100)),
    sa.Column("screen_id", sa.String(32)),
    sa.Column("item_key", sa.String(16)),
    sa.Column("department", sa.String(80)),
    sa.Column("household", sa.String(200)),
    sa.Column("measure", sa.String(120)),
    sa.Column("result", sa.String(20)),
    sa.Column("note", sa.Text),
    sa.Column("person", sa.String(100)),
    sa.Column("answered_on", sa.Date),
    sa.Column("facts", sa.Text),
    sa.Column("source", sa.String(300)),
)

_KEYS = sa.Table(
    "record_keys", sa.MetaData(),
    sa.Column("record_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
)

_STORE_KEYS = sa.Table(
    "store_keys", sa.MetaData(),
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(128)),
)

_USERS = sa.Table(
    "users", sa.MetaData(),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(200)),
    sa.Column("role", sa.String(20)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("session_version", sa.Integer),
    sa.Column("disabled", sa.Boolean),
    sa.Column("team", sa.String(100)),
    sa.Column("token_hash", sa.String(64)),
    sa.Column("token_created_at", sa.DateTime(timezone=True)),
    sa.Column("locked_at", sa.DateTime(timezone=True)),
    sa.Column("failures", sa.Integer),
)
ROLES = ("caseworker", "supervisor")

_CHAIN = sa.Table(
    "record_chain", sa.MetaData(),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(32)),
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("record_hash", sa.String(64)),
)
#: a decision record's statements, built once (RecordStore.add)
_ADD_RECORD = sa.insert(_TABLE)
_ADD_STORED = sa.select(_TABLE.c.created_at, _TABLE.c.as_of).where(_TABLE.c.id == sa.bindparam("record_id"))
_ADD_HEAD = sa.select(_CHAIN.c.record_hash).order_by(_CHAIN.c.seq.desc()).limit(1)
_ADD_LINK = sa.insert(_CHAIN)
_ADD_KEYS = sa.insert(_KEYS)
_CHAIN_LOCK = sa.text("SELECT pg_advisory_xact_lock(23023)")

_READS = sa.Table(
    "record_reads", sa.MetaData(),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("read_at", sa.DateTime(timezone=True)),
    sa.Column("user_name", sa.String(100)),
    sa.Column("record_id", sa.String(64)),
    sa.Column("subject_id", sa.String(200)),
    sa.Column("how", sa.String(20)),
)

#: The prefix of an API token (``houfu users token``), so a leaked one is easy to find in a log or a repository.
TOKEN_PREFIX = "houfu_"

#: The previous hash of the first record in the chain.
GENESIS = "0" * 64

#: The shortest password accepted (issue 23, §4; OWASP ASVS 2.1.1 asks for 12).
MIN_PASSWORD = 12


def _common_passwords() -> frozenset[str]:
    from importlib.resources import files

    text = files("houfu.records").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def password_problem(name: str, password: str) -> str | None:
    """Why a password is refused, or None: shorter than ``MIN_PASSWORD``, the user's name, or among the 30,000
    most common passwords (houfu/records/common_passwords.txt, from zxcvbn 4.5.0, MIT licence)."""
    if len(password) < MIN_PASSWORD:
        return f"a password has at least {MIN_PASSWORD} characters"
    if password.lower() == name.lower():
        return "a password is not the user's name"
    if password.lower() in _common_passwords():
        return "this password is among the 30,000 most common ones; choose another"
    return None


_HASHED = ("id", "created_at", "user_name", "entity", "subject_id", "as_of", "kb_version", "houfu_version", "input",
           "facts", "report", "received")


def record_hash(row: Any, prev_hash: str) -> str:
    """The sha256 of a decision record's content, as stored, and of the hash before it in the chain."""
    import hashlib

    import orjson

    content = {k: row[k] for k in _HASHED}
    content["created_at"] = _utc(content["created_at"]).astimezone(dt.UTC).isoformat()
    content["as_of"] = _date(content["as_of"]).isoformat()
    # The bytes of json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")), the form every
    # chain kept was hashed in, made by orjson: the same escapes for text (tests/test_records.py checks them on
    # any text), a fifth of the time; the record's 150 kB were serialised twice per check.
    blob = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode() + b"\n" + blob).hexdigest()


@dataclass
class ChainCheck:
    """The hash chain walked: how many records, the head's hash, and the first record that does not match
    (its id and why), if any."""

    records: int
    head: str
    first_bad: str | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None


class RecordError(Exception):
    """A record that does not exist, or cannot be replayed as asked (one line)."""


class AmbiguousRecord(RecordError):
    """A short record id that starts more than one record: the candidates, so the user can give more of it."""

    def __init__(self, prefix: str, candidates: list[str]):
        self.prefix, self.candidates = prefix, candidates
        many = len(candidates) > AMBIGUOUS_SHOWN
        super().__init__(f"record id {prefix!r} starts {f'more than {AMBIGUOUS_SHOWN}' if many else len(candidates)} "
                         f"records: {', '.join(candidates[:AMBIGUOUS_SHOWN])}{', …' if many else ''}; "
                         "give more of it")


#: How many candidates an ambiguous short id names.
AMBIGUOUS_SHOWN = 10


class RecordSummary(BaseModel):
    """A decision record's provenance without its report (a list of them is read without deciding anything
    again): which household or site, when, by whom, under which rules."""

    record_id: str
    created_at: dt.datetime
    user: str
    entity: str
    subject_id: str
    name: str | None = None
    as_of: dt.date
    kb_version: str


class HouseholdHit(BaseModel):
    """A household (or site) found by a search: its latest record among those that matched, how many matched,
    and on what (``id``, ``name``, ``member``, ``idno`` for an ID number, ``record`` for a record id)."""

    subject_id: str
    entity: str
    name: str | None = None
    record_id: str
    created_at: dt.datetime
    user: str
    records: int
    matched: list[str]


class DecisionRecord(BaseModel):
    record_id: str
    created_at: dt.datetime
    user: str
    entity: str
    subject_id: str
    as_of: dt.date
    kb_version: str
    houfu_version: str
    input: dict[str, Any]
    facts: dict[str, Any]
    report: Report
    received: str | None = None  # the text as it arrived, before labels became codes (None before migration 0003)


class RecordRead(BaseModel):
    """One read of a personal record: who read it, when, which record of whose household, and how (``api``, a
    ``page``, a household's ``history``, a ``letter``, the ``cli``)."""

    read_at: dt.datetime
    user: str
    record_id: str
    subject_id: str
    how: str


class ScreenRecord(BaseModel):
    """A caseload screened through the service: who, when, under which rules, which files (by sha256), and
    what came of it. The per-household determinations go back to the caller as a file, not into the store."""

    screen_id: str
    created_at: dt.datetime
    user: str
    as_of: dt.date
    kb_version: str
    houfu_version: str
    files: list[dict[str, Any]]
    rows_in: int
    screened: int
    rejected: int
    summary: dict[str, Any]


class WorklistItem(BaseModel):
    """One row of a department's worklist as it was sent: the key printed in the workbook and what it stands for."""

    screen_id: str
    item_key: str
    department: str
    household: str
    measure: str
    site: str | None = None
    action: str
    facts: str = ""
    due_on: dt.date | None = None


class Answer(BaseModel):
    """A department's answer to one worklist row, as given (append-only; a later answer is a new record)."""

    screen_id: str
    item_key: str
    department: str
    household: str
    measure: str
    result: str  # confirmed, returned, needs_info, done (houfu.screen.worklists.RESULTS)
    note: str | None = None
    person: str | None = None
    answered_on: dt.date | None = None
    facts: dict[str, Any] | None = None  # the facts the answer changes: a new record of them, never an edit
    source: str  # the workbook's file name and row
    user: str = "-"
    created_at: dt.datetime | None = None

    def digest(self) -> str:
        """What makes two answers the same answer (importing one file twice adds nothing)."""
        import hashlib

        key = json.dumps([self.screen_id, self.item_key, self.result, self.note, self.person,
                          self.answered_on.isoformat() if self.answered_on else None, self.facts],
                         ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Replay:
    """A record decided again: the same, or the measures whose status changed (old, new)."""

    record: DecisionRecord
    kb_version: str
    changes: list[tuple[str, str, str]]

    @property
    def same(self) -> bool:
        return not self.changes


@dataclass
class RecordDiff:
    """What changed between two decision records: the facts given, and what was decided from them.

    ``facts`` holds (path, before, after), a path as the input writes it (``members[1].age``, counting from 0
    as the data does), None where the fact was absent. ``statuses`` holds (measure, before, after), and
    ``amounts`` (measure, before, after) with each side's amounts as one line."""

    before: DecisionRecord
    after: DecisionRecord
    facts: list[tuple[str, Any, Any]]
    statuses: list[tuple[str, str, str]]
    amounts: list[tuple[str, str, str]]

    @property
    def same(self) -> bool:
        return not (self.facts or self.statuses or self.amounts)


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every scalar of a nested input, by its path: {"members[0].age": 72, ...}."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{path}.{k}" if path else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_leaves(v, f"{path}[{i}]"))
        return out
    return {path: value}


def status_changes(before: Report, after: Report) -> list[tuple[str, str, str]]:
    """(measure, before, after) for each measure whose status differs; "—" where one side lacks it."""
    old = {d.measure_id: d.status.value for d in before.determinations}
    new = {d.measure_id: d.status.value for d in after.determinations}
    return [(m, old.get(m, "—"), new.get(m, "—")) for m in sorted(set(old) | set(new)) if old.get(m) != new.get(m)]


def _amounts_line(amounts: list[Amount]) -> str:
    return "; ".join(f"{a.quantity}{' ' + (a.entity or a.member_name or '') if a.entity or a.member_name else ''}"
                     f" = {'?' if a.value is None else f'{a.value:g}'} {a.unit}" for a in amounts) or "—"


def diff_records(before: DecisionRecord, after: DecisionRecord) -> RecordDiff:
    """Two records compared: the facts as given, the statuses, and the amounts."""
    old, new = _leaves(before.input), _leaves(after.input)
    facts = [(p, old.get(p), new.get(p)) for p in sorted(set(old) | set(new)) if old.get(p) != new.get(p)]
    was = {d.measure_id: _amounts_line(d.amounts) for d in before.report.determinations}
    now = {d.measure_id: _amounts_line(d.amounts) for d in after.report.determinations}
    amounts = [(m, was.get(m, "—"), now.get(m, "—")) for m in sorted(set(was) | set(now)) if was.get(m) != now.get(m)]
    return RecordDiff(before, after, facts, status_changes(before.report, after.report), amounts)


def explain_record(evaluator: Evaluator, rec: DecisionRecord, measure_id: str) -> Explanation | None:
    """Why one measure of a record has its status, member by member. The member tests are worked out again
    from the record's input, so only under the knowledge base the record names: None under another (the
    record's own determination, with its reasons, still stands)."""
    if rec.kb_version != evaluator.kb.version or rec.report.by_id(measure_id) is None:
        return None
    return evaluator.explain(evaluator.kb.models.record(rec.entity).model_validate(rec.input), measure_id,
                             rec.as_of)


def default_url(data_dir: Path | None = None) -> str:
    """SQLite in the data directory (``--data-dir``, ``$HOUFU_DATA_DIR``, or ``./houfu-data``)."""
    folder = data_dir or Path(os.environ.get("HOUFU_DATA_DIR", "houfu-data"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder.resolve() / 'records.sqlite3'}"


def _private_sqlite_file(url: str) -> None:
    """A new SQLite database file is made readable by its owner only (0600): it holds personal data."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return
    path = Path(url.removeprefix("sqlite:///"))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


@contextlib.contextmanager
def _setting_up(url: str) -> Iterator[None]:
    """One process at a time makes and migrates a SQLite store file: two `houfu serve` started at once on a new
    folder raced, and one failed (the file made twice, a table created twice). The lock is the database folder's
    own (``flock`` on it, no file left beside the records), given back when the store is ready. PostgreSQL takes
    an advisory lock for its migrations instead (``_upgrade``)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:" or not hasattr(os, "O_DIRECTORY"):
        yield
        return
    import fcntl

    folder = Path(url.removeprefix("sqlite:///")).parent
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(OSError):  # a file system without locks: as before, unlocked
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # and the lock with it


#: the advisory lock that serialises migrations on PostgreSQL (the chain's is 23023)
_MIGRATION_LOCK = sa.text("SELECT pg_advisory_xact_lock(23024)")


def _upgrade(engine: sa.Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # one process at a time migrates (its DDL is transactional)
            connection.execute(_MIGRATION_LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class RecordStore:
    """The append-only store of decision records."""

    def __init__(self, url: str):
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        self.url = url
        with _setting_up(url):
            _private_sqlite_file(url)
            if url in ("sqlite://", "sqlite:///:memory:"):  # one database for every thread, not one each
                self.engine = sa.create_engine(url, future=True, poolclass=sa.pool.StaticPool,
                                               connect_args={"check_same_thread": False})
            elif url.startswith("sqlite"):
                # A file several processes may write at once (houfu serve --workers N): a writer waits up to 30 s
                # for the lock instead of failing, and WAL lets readers go on while one writes (one fsync a commit).
                self.engine = sa.create_engine(url, future=True, connect_args={"timeout": 30})
                with self.engine.connect() as c:
                    c.exec_driver_sql("PRAGMA journal_mode=WAL")
            else:
                self.engine = sa.create_engine(url, future=True)
            _upgrade(self.engine)
        self._id_key: bytes | None = None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, record: Household | Site, report: Report, user: str, received: str | None = None,
            report_json: str | None = None) -> str:
        """Store one determination; returns its record id. ``received`` is the input as it arrived;
        ``report_json`` the report's ``model_dump_json()``, when the caller has made it already."""
        from houfu.io.privacy import mask_personal

        record_id = uuid.uuid4().hex
        given = record.model_dump_json(exclude_none=True)  # a member's ID number is never kept (only its hash)
        kept_report = report.model_dump_json() if report_json is None else report_json
        row = {"id": record_id, "created_at": dt.datetime.now(dt.UTC), "user_name": user or "-",
               "entity": report.entity, "subject_id": report.id, "as_of": report.as_of,
               "kb_version": report.kb_version, "houfu_version": report.houfu_version,
               "input": given, "facts": json.dumps(flatten(record), ensure_ascii=False, default=str),
               "report": kept_report, "received": None if received is None else mask_personal(received)}
        numbers = [m.id_number for m in getattr(record, "members", None) or [] if getattr(m, "id_number", None)]
        # The search keys read only each determination's status and clause from the report: handed those, not the
        # report's JSON parsed back (a seventh of a recorded check's time went to that parse).
        touched = {"determinations": [{"status": d.status.value, "clause_id": d.clause_id}
                                      for d in report.determinations]}
        keys = [{"record_id": record_id, "kind": kind, "key": key} for kind, key in finder.record_keys(
            report.entity, json.loads(given), touched, numbers, self._secret())]
        for attempt in range(5):
            try:
                with self.engine.begin() as c:
                    if c.dialect.name == "postgresql":  # one writer at a time extends the chain
                        c.execute(_CHAIN_LOCK)
                    # The statements are built once (_ADD_*): building and compiling them on every record was a
                    # third of a recorded check's time in the store (issue 25).
                    c.execute(_ADD_RECORD, row)
                    # Hashed as the database keeps it: the dates read back (a store may drop the zone or round);
                    # the text is kept as given, so it is not read back (150 kB of a check's report and input).
                    stored = {**row, **c.execute(_ADD_STORED, {"record_id": record_id}).mappings().one()}
                    prev = c.execute(_ADD_HEAD).scalar() or GENESIS
                    c.execute(_ADD_LINK, {"record_id": record_id, "prev_hash": prev,
                                          "record_hash": record_hash(stored, prev)})
                    if keys:
                        c.execute(_ADD_KEYS, keys)
                return record_id
            except sa.exc.IntegrityError:  # another process extended the chain first (prev_hash is unique)
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def chain_head(self) -> tuple[int, str]:
        """How many records the chain holds, and its head's hash (``GENESIS`` when empty)."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(_CHAIN.c.seq, _CHAIN.c.record_hash).order_by(_CHAIN.c.seq.desc())
                            .limit(1)).first()
            count = int(c.execute(sa.select(sa.func.count()).select_from(_CHAIN)).scalar_one())
        return (count, row[1]) if row else (0, GENESIS)

    def verify(self) -> ChainCheck:
        """Walk the hash chain oldest first: each record's content hashed again with the hash before it must
        give the hash kept; a record edited, replaced or deleted, a chain row changed, or a record kept outside
        the chain is named (the first one found)."""
        prev, seen, count = GENESIS, set(), 0
        with self.engine.connect() as c:
            records = {r["id"]: r for r in c.execute(sa.select(_TABLE)).mappings()}
            for link in c.execute(sa.select(_CHAIN).order_by(_CHAIN.c.seq)).mappings():
                rid = link["record_id"]
                count += 1
                if link["prev_hash"] != prev:
                    return ChainCheck(count, prev, rid, "its link to the record before it was changed")
                row = records.get(rid)
                if row is None:
                    return ChainCheck(count, prev, rid, "the record was deleted")
                if record_hash(row, prev) != link["record_hash"]:
                    return ChainCheck(count, prev, rid, "its content does not match the hash kept when it was "
                                                        "stored: it was edited or replaced")
                seen.add(rid)
                prev = link["record_hash"]
        outside = sorted(set(records) - seen, key=lambda r: str(records[r]["created_at"]))
        if outside:
            return ChainCheck(count, prev, outside[0], "the record is not in the chain: it was written around "
                                                       "the store")
        return ChainCheck(count, prev)

    def add_screen(self, user: str, as_of: dt.date, kb_version: str, houfu_version: str,
                   files: list[dict[str, Any]], rows_in: int, screened: int, rejected: int,
                   summary: dict[str, Any], screen_id: str | None = None) -> str:
        """Keep a record of one caseload screened; returns its id (``screen_id`` if given)."""
        screen_id = screen_id or uuid.uuid4().hex
        with self.engine.begin() as c:
            c.execute(sa.insert(_SCREENS).values(
                id=screen_id, created_at=dt.datetime.now(dt.UTC), user_name=user or "-", as_of=as_of,
                kb_version=kb_version, houfu_version=houfu_version, files=json.dumps(files, ensure_ascii=False),
                rows_in=rows_in, screened=screened, rejected=rejected,
                summary=json.dumps(summary, ensure_ascii=False, default=str)))
        return screen_id

    def screens(self, limit: int = 100) -> list[ScreenRecord]:
        q = sa.select(_SCREENS).order_by(_SCREENS.c.created_at.desc()).limit(limit)
        with self.engine.connect() as c:
            return [ScreenRecord(screen_id=r["id"], created_at=_utc(r["created_at"]), user=r["user_name"],
                                 as_of=_date(r["as_of"]), kb_version=r["kb_version"],
                                 houfu_version=r["houfu_version"], files=json.loads(r["files"]),
                                 rows_in=r["rows_in"], screened=r["screened"], rejected=r["rejected"],
                                 summary=json.loads(r["summary"])) for r in c.execute(q).mappings()]

    def screen(self, screen_id: str) -> ScreenRecord | None:
        q = sa.select(_SCREENS).where(_SCREENS.c.id == screen_id)
        with self.engine.connect() as c:
            r = c.execute(q).mappings().first()
        if r is None:
            return None
        return ScreenRecord(screen_id=r["id"], created_at=_utc(r["created_at"]), user=r["user_name"],
                            as_of=_date(r["as_of"]), kb_version=r["kb_version"], houfu_version=r["houfu_version"],
                            files=json.loads(r["files"]), rows_in=r["rows_in"], screened=r["screened"],
                            rejected=r["rejected"], summary=json.loads(r["summary"]))

    # --- who read what --------------------------------------------------------------------------------------------

    def add_reads(self, user: str, records: list[tuple[str, str]], how: str) -> None:
        """Keep the reads of personal records: ``records`` as (record id, household or site id), read by ``user``
        through ``how`` (append-only)."""
        if not records:
            return
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as c:
            c.execute(sa.insert(_READS), [{"read_at": now, "user_name": user[:100] or "-", "record_id": rid[:64],
                                           "subject_id": subject[:200], "how": how[:20]} for rid, subject in records])

    def read(self, record_id: str, user: str, how: str = "cli") -> DecisionRecord:
        """A decision record by its id or a unique prefix of 8 or more (``find``), its reading kept (``get`` reads
        without keeping it: for replays and checks)."""
        rec = self.find(record_id)
        self.add_reads(user, [(rec.record_id, rec.subject_id)], how)
        return rec

    def reads(self, subject_id: str, limit: int = 1000) -> list[RecordRead]:
        """The reads of one household's (or site's) records, newest first."""
        q = (sa.select(_READS).where(_READS.c.subject_id == subject_id)
             .order_by(_READS.c.read_at.desc(), _READS.c.seq.desc()).limit(limit))
        with self.engine.connect() as c:
            return [RecordRead(read_at=_utc(r["read_at"]), user=r["user_name"], record_id=r["record_id"],
                               subject_id=r["subject_id"], how=r["how"]) for r in c.execute(q).mappings()]

    # --- worklists ----------------------------------------------------------------------------------------------

    def add_worklists(self, screen_id: str, lists: dict[str, list[dict[str, Any]]]) -> None:
        """Each department's list as sent for a screen run: its rows, as one gzipped JSON value per department."""
        import gzip

        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as c:
            for department, items in lists.items():
                blob = gzip.compress(json.dumps(items, ensure_ascii=False, default=str).encode(), 6)
                c.execute(sa.insert(_LISTS).values(screen_id=screen_id, department=department, created_at=now,
                                                   rows=len(items), items=blob))

    def worklist_items(self, screen_id: str, department: str | None = None) -> dict[str, WorklistItem]:
        """A screen run's worklist rows by key (one department's, if given)."""
        return {x["item_key"]: WorklistItem(screen_id=screen_id, department=d, **x)
                for d, x in self.worklist_rows(screen_id, department)}

    def worklist_rows(self, screen_id: str, department: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """A screen run's worklist rows as kept (department, row), without a model each: for reading many runs."""
        import gzip

        q = sa.select(_LISTS).where(_LISTS.c.screen_id == screen_id)
        if department is not None:
            q = q.where(_LISTS.c.department == department)
        with self.engine.connect() as c:
            return [(r["department"], x) for r in c.execute(q).mappings()
                    for x in json.loads(gzip.decompress(r["items"]))]

    def add_sightings(self, screen_id: str, as_of: dt.date, members: dict[str, tuple[list[str], list[str]]]) -> None:
        """Who was on each list in a screen run (confirmed, to check)."""
        import gzip

        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as c:
            for list_id, (yes, maybe) in members.items():
                blob = gzip.compress(json.dumps({"confirmed": sorted(yes), "to_check": sorted(maybe)},
                                                ensure_ascii=False).encode(), 6)
                c.execute(sa.insert(_SIGHTINGS).values(screen_id=screen_id, list_id=list_id, as_of=as_of,
                                                       created_at=now, members=blob))

    def sightings(self, list_id: str) -> list[tuple[str, dt.date, set[str], set[str]]]:
        """Each screen run's members of a list, oldest first: (screen id, as-of date, confirmed, to check)."""
        import gzip

        q = (sa.select(_SIGHTINGS).where(_SIGHTINGS.c.list_id == list_id)
             .order_by(_SIGHTINGS.c.as_of, _SIGHTINGS.c.created_at))
        out = []
        with self.engine.connect() as c:
            for r in c.execute(q).mappings():
                got = json.loads(gzip.decompress(r["members"]))
                out.append((r["screen_id"], _date(r["as_of"]), set(got["confirmed"]), set(got["to_check"])))
        return out

    def worklist_screens(self) -> list[str]:
        """The screen runs that sent worklists, the latest first."""
        q = (sa.select(_SCREENS.c.id).where(_SCREENS.c.id.in_(sa.select(_LISTS.c.screen_id).distinct()))
             .order_by(_SCREENS.c.created_at.desc()))
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(q)]

    def add_answers(self, answers: list[Answer]) -> tuple[int, int]:
        """Keep each answer not already kept; returns (added, already kept). Append-only: an answer that differs
        from an earlier one for the same row is a new record beside it."""
        digests = {a.digest(): a for a in answers}
        with self.engine.begin() as c:
            have = set()
            keys = list(digests)
            for start in range(0, len(keys), 500):
                have |= {r[0] for r in c.execute(sa.select(_ANSWERS.c.digest).where(
                    _ANSWERS.c.digest.in_(keys[start:start + 500])))}
            new = [{"id": uuid.uuid4().hex, "digest": d, "created_at": dt.datetime.now(dt.UTC),
                    "user_name": a.user or "-", "screen_id": a.screen_id, "item_key": a.item_key,
                    "department": a.department, "household": a.household, "measure": a.measure, "result": a.result,
                    "note": a.note, "person": a.person, "answered_on": a.answered_on,
                    "facts": json.dumps(a.facts, ensure_ascii=False) if a.facts is not None else None,
                    "source": a.source}
                   for d, a in digests.items() if d not in have]
            if new:
                c.execute(sa.insert(_ANSWERS), new)
        return len(new), len(answers) - len(new)

    def answers(self, screen_id: str | None = None, department: str | None = None) -> list[Answer]:
        """The answers kept, oldest first (a screen run's, a department's)."""
        q = sa.select(_ANSWERS).order_by(_ANSWERS.c.created_at, _ANSWERS.c.id)
        if screen_id is not None:
            q = q.where(_ANSWERS.c.screen_id == screen_id)
        if department is not None:
            q = q.where(_ANSWERS.c.department == department)
        with self.engine.connect() as c:
            return [Answer(screen_id=r["screen_id"], item_key=r["item_key"], department=r["department"],
                           household=r["household"], measure=r["measure"], result=r["result"], note=r["note"],
                           person=r["person"], answered_on=_date(r["answered_on"]) if r["answered_on"] else None,
                           facts=json.loads(r["facts"]) if r["facts"] else None, source=r["source"],
                           user=r["user_name"], created_at=_utc(r["created_at"]))
                    for r in c.execute(q).mappings()]

    # --- finding records and households ------------------------------------------------------------------------

    def _secret(self) -> bytes:
        """The key of the ID-number hashes, made by migration 0007 and kept in the store."""
        if self._id_key is None:
            with self.engine.connect() as c:
                value = c.execute(sa.select(_STORE_KEYS.c.value).where(_STORE_KEYS.c.name == "id_number")).scalar()
            if value is None:
                raise RecordError("the records store has no search key (store_keys); run its migrations")
            self._id_key = bytes.fromhex(value)
        return self._id_key

    def resolve(self, record_id: str, makers: set[str] | None = None) -> str:
        """The full id of the record that ``record_id`` names: the whole id, or any prefix of
        ``finder.MIN_PREFIX`` characters or more that starts one record only (folded: case, spaces and
        full-width characters do not matter). ``makers``: only records these users made (None: any).
        ``AmbiguousRecord`` names the candidates; a record not found is a ``RecordError``."""
        prefix = finder.record_prefix(record_id)
        if prefix is None:
            shown = record_id[:64]
            hint = "" if len(finder.fold(record_id)) >= finder.MIN_PREFIX else \
                f" (give at least {finder.MIN_PREFIX} characters of its id)"
            raise RecordError(f"no decision record {shown!r}{hint}")
        q = sa.select(_TABLE.c.id).order_by(_TABLE.c.id).limit(AMBIGUOUS_SHOWN + 1)
        q = q.where(_TABLE.c.id == prefix) if len(prefix) == 32 else \
            q.where(_TABLE.c.id.like(prefix + "%"))  # a hex prefix holds no LIKE wildcard
        if makers is not None:
            q = q.where(_TABLE.c.user_name.in_(sorted(makers)))
        with self.engine.connect() as c:
            found = [r[0] for r in c.execute(q)]
        if not found:
            raise RecordError(f"no decision record {record_id[:64]!r}")
        if len(found) > 1:
            raise AmbiguousRecord(prefix, found)
        return str(found[0])

    def find(self, record_id: str, makers: set[str] | None = None) -> DecisionRecord:
        """The record a full or short id names (``resolve``)."""
        return self.get(self.resolve(record_id, makers))

    def search(self, query: str, makers: set[str] | None = None, limit: int = 50) -> list[HouseholdHit]:
        """Households (and sites) whose id, name or a member's name holds ``query`` (folded: case, spaces and
        full-width characters do not matter), whose member has ``query`` as ID number (by its keyed hash), or
        one of whose records has ``query`` as a short id; the most recently decided first. ``makers``: only
        records these users made (None: any)."""
        folded = finder.fold(query)
        if not folded:
            return []
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        wanted = sa.and_(_KEYS.c.kind.in_(("id", "name", "member")),
                         _KEYS.c.key.like(f"%{escaped}%", escape="\\"))
        number = finder.id_number(query)
        if number is not None:
            wanted = sa.or_(wanted, sa.and_(_KEYS.c.kind == "idno",
                                            _KEYS.c.key == finder.id_number_key(self._secret(), number)))
        keyed = sa.select(_KEYS.c.record_id, _KEYS.c.kind).where(wanted)
        prefix = finder.record_prefix(query)
        hits = (keyed if prefix is None else keyed.union_all(
            sa.select(_TABLE.c.id.label("record_id"), sa.literal("record").label("kind"))
            .where(_TABLE.c.id.like(prefix + "%")))).subquery()
        q = (sa.select(_TABLE.c.id, _TABLE.c.subject_id, _TABLE.c.entity, _TABLE.c.created_at, _TABLE.c.user_name,
                       _TABLE.c.input, hits.c.kind)
             .join(hits, hits.c.record_id == _TABLE.c.id).order_by(_TABLE.c.created_at.desc(), _TABLE.c.id)
             .limit(limit * 20))
        if makers is not None:
            q = q.where(_TABLE.c.user_name.in_(sorted(makers)))
        found: dict[tuple[str, str], HouseholdHit] = {}
        counted: dict[tuple[str, str], set[str]] = {}
        with self.engine.connect() as c:
            for r in c.execute(q).mappings():
                subject = (r["entity"], r["subject_id"])
                hit = found.get(subject)
                if hit is None:
                    if len(found) >= limit:
                        continue
                    hit = found[subject] = HouseholdHit(
                        subject_id=r["subject_id"], entity=r["entity"], name=json.loads(r["input"]).get("name"),
                        record_id=r["id"], created_at=_utc(r["created_at"]), user=r["user_name"], records=0,
                        matched=[])
                    counted[subject] = set()
                counted[subject].add(r["id"])
                hit.records = len(counted[subject])
                if r["kind"] not in hit.matched:
                    hit.matched.append(r["kind"])
        return list(found.values())

    def touching(self, clause_id: str, limit: int = 100, makers: set[str] | None = None) -> list[RecordSummary]:
        """The latest records in which a measure of the clause applied (or was violated, met or not yet due), read
        from the search keys: no report is parsed."""
        hits = sa.select(_KEYS.c.record_id).where(_KEYS.c.kind == "clause", _KEYS.c.key == clause_id)
        q = (sa.select(_TABLE.c.id, _TABLE.c.created_at, _TABLE.c.user_name, _TABLE.c.entity, _TABLE.c.subject_id,
                       _TABLE.c.as_of, _TABLE.c.kb_version, _TABLE.c.input)
             .where(_TABLE.c.id.in_(hits)).order_by(_TABLE.c.created_at.desc(), _TABLE.c.id).limit(limit))
        if makers is not None:
            q = q.where(_TABLE.c.user_name.in_(sorted(makers)))
        with self.engine.connect() as c:
            return [RecordSummary(record_id=r["id"], created_at=_utc(r["created_at"]), user=r["user_name"],
                                  entity=r["entity"], subject_id=r["subject_id"], name=json.loads(r["input"]).get("name"),
                                  as_of=_date(r["as_of"]), kb_version=r["kb_version"])
                    for r in c.execute(q).mappings()]

    def get(self, record_id: str) -> DecisionRecord:
        with self.engine.connect() as c:
            row = c.execute(sa.select(_TABLE).where(_TABLE.c.id == record_id)).mappings().first()
        if row is None:
            raise RecordError(f"no decision record {record_id!r}")
        return _record(row)

    def list(self, subject_id: str | None = None, limit: int = 100) -> list[DecisionRecord]:
        q = sa.select(_TABLE).order_by(_TABLE.c.created_at.desc()).limit(limit)
        if subject_id is not None:
            q = q.where(_TABLE.c.subject_id == subject_id)
        with self.engine.connect() as c:
            return [_record(r) for r in c.execute(q).mappings()]

    def replay(self, evaluator: Evaluator, record_id: str, against_current: bool = False) -> Replay:
        """Decide the record's input again. Under another knowledge base than the one it names, this fails
        unless ``against_current``, which shows what changed."""
        rec = self.get(record_id)
        kb = evaluator.kb
        if rec.kb_version != kb.version and not against_current:
            raise RecordError(f"record {record_id} was decided under kb_version {rec.kb_version}; the loaded "
                              f"knowledge base is {kb.version}. Load that version (--policies), or give "
                              "--against-current to see what changed")
        again = evaluator.determine(kb.models.record(rec.entity).model_validate(rec.input),
                                    rec.as_of, EngineKind.rete)
        return Replay(rec, kb.version, status_changes(rec.report, again))

    def healthy(self) -> bool:
        """The database answers."""
        try:
            with self.engine.connect() as c:
                c.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True


class Users:
    """The service's users, beside the records: a caseworker creates and reads households; a supervisor also
    sees sites, departments and every record. Passwords are kept as argon2 hashes only."""

    def __init__(self, store: RecordStore):
        from argon2 import PasswordHasher

        self.engine = store.engine
        self.hasher = PasswordHasher()
        self._dummy: str | None = None

    def _dummy_hash(self) -> str:
        """A hash made once, to verify an unknown name's password against: it costs what a known name costs
        (hashing afresh each time made an unknown name twice as slow, which told a guesser the names)."""
        if self._dummy is None:
            self._dummy = self.hasher.hash("not-a-password-" + uuid.uuid4().hex)
        return self._dummy

    def add(self, name: str, password: str, role: str, team: str | None = None) -> None:
        if role not in ROLES:
            raise RecordError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if not name or len(name) > 100 or any(ch.isspace() for ch in name):
            raise RecordError("a user name is 1 to 100 characters with no spaces")
        problem = password_problem(name, password)
        if problem:
            raise RecordError(problem)
        with self.engine.begin() as c:
            if c.execute(sa.select(_USERS.c.name).where(_USERS.c.name == name)).first() is not None:
                raise RecordError(f"user {name!r} already exists")
            c.execute(sa.insert(_USERS).values(name=name, password_hash=self.hasher.hash(password), role=role,
                                               created_at=dt.datetime.now(dt.UTC), session_version=1,
                                               disabled=False, team=(team or None) and team[:100]))

    def teams(self) -> dict[str, str | None]:
        """Each user's site or team (None: none given)."""
        with self.engine.connect() as c:
            return {r[0]: r[1] for r in c.execute(sa.select(_USERS.c.name, _USERS.c.team))}

    def makers(self, reader: str, role: str) -> set[str] | None:
        """Whose records ``reader`` may read: None for a supervisor (everyone's); a caseworker their own and
        those of the users of their site or team."""
        if role == "supervisor":
            return None
        teams = self.teams()
        mine = teams.get(reader)
        return {reader} | ({u for u, t in teams.items() if t == mine} if mine is not None else set())

    def may_read(self, reader: str, role: str, maker: str) -> bool:
        """A supervisor reads every record; a caseworker those they made and those of their site or team
        (issue 23, §5)."""
        if role == "supervisor" or reader == maker:
            return True
        teams = self.teams()
        mine = teams.get(reader)
        return mine is not None and teams.get(maker) == mine

    def list(self) -> list[dict[str, Any]]:
        """Every user: name, role, whether disabled, when added (never the hash)."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(_USERS.c.name, _USERS.c.role, _USERS.c.disabled, _USERS.c.created_at,
                                       _USERS.c.team, _USERS.c.locked_at, _USERS.c.token_created_at)
                             .order_by(_USERS.c.name)).mappings().all()
        return [{"name": r["name"], "role": r["role"], "disabled": bool(r["disabled"]), "team": r["team"],
                 "created_at": _utc(r["created_at"]),
                 "locked_at": _utc(r["locked_at"]) if r["locked_at"] is not None else None,
                 "token_created_at": _utc(r["token_created_at"]) if r["token_created_at"] is not None else None}
                for r in rows]

    def _update(self, name: str, **values: Any) -> None:
        """Change a user and raise their session version: every session made before ends at once."""
        with self.engine.begin() as c:
            done = c.execute(sa.update(_USERS).where(_USERS.c.name == name)
                             .values(session_version=_USERS.c.session_version + 1, **values))
            if done.rowcount == 0:
                raise RecordError(f"no user {name!r}")

    def disable(self, name: str) -> None:
        self._update(name, disabled=True)

    def enable(self, name: str) -> None:
        self._update(name, disabled=False)

    def end_sessions(self, name: str) -> None:
        """Log a user out everywhere (logout ends every copy of the cookie, not just this browser's)."""
        self._update(name)

    def passwd(self, name: str, password: str) -> None:
        problem = password_problem(name, password)
        if problem:
            raise RecordError(problem)
        self._update(name, password_hash=self.hasher.hash(password))

    def remove(self, name: str) -> None:
        """Remove a user (their records stay, naming them)."""
        with self.engine.begin() as c:
            if c.execute(sa.delete(_USERS).where(_USERS.c.name == name)).rowcount == 0:
                raise RecordError(f"no user {name!r}")

    # --- API tokens (issue 23, §3): for scripts, instead of a password -----------------------------------------

    def new_token(self, name: str) -> str:
        """A new API token for ``name``, answered once and kept as its sha256 only; it replaces the user's
        earlier token (which stops working at once)."""
        import secrets

        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            done = c.execute(sa.update(_USERS).where(_USERS.c.name == name)
                             .values(token_hash=_token_hash(token), token_created_at=dt.datetime.now(dt.UTC)))
            if done.rowcount == 0:
                raise RecordError(f"no user {name!r}")
        return token

    def revoke_token(self, name: str) -> bool:
        """Remove a user's API token; True if they had one."""
        with self.engine.begin() as c:
            row = c.execute(sa.select(_USERS.c.token_hash).where(_USERS.c.name == name)).first()
            if row is None:
                raise RecordError(f"no user {name!r}")
            c.execute(sa.update(_USERS).where(_USERS.c.name == name).values(token_hash=None, token_created_at=None))
        return row[0] is not None

    def by_token(self, token: str) -> tuple[str, str] | None:
        """The (name, role) of an enabled user whose API token this is, else None. A lock (too many wrong
        passwords) stops password logins, not the token: a guesser cannot stop a county's scripts."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        with self.engine.connect() as c:
            row = c.execute(sa.select(_USERS.c.name, _USERS.c.role, _USERS.c.disabled)
                            .where(_USERS.c.token_hash == _token_hash(token))).first()
        if row is None or row[2]:
            return None
        return str(row[0]), str(row[1])

    # --- lockouts (issue 23, §2): kept in the database, so a restart does not lift them ------------------------

    def lock(self, name: str) -> bool:
        """Lock an account after too many failed logins; False if there is no such user (nothing to keep)."""
        with self.engine.begin() as c:
            return bool(c.execute(sa.update(_USERS).where(_USERS.c.name == name[:100], _USERS.c.locked_at.is_(None))
                                  .values(locked_at=dt.datetime.now(dt.UTC))).rowcount)

    def unlock(self, name: str) -> bool:
        """Lift an account's lock and forget its failed logins; True if it was locked."""
        with self.engine.begin() as c:
            c.execute(sa.update(_USERS).where(_USERS.c.name == name[:100], _USERS.c.failures > 0).values(failures=0))
            return bool(c.execute(sa.update(_USERS).where(_USERS.c.name == name[:100],
                                                          _USERS.c.locked_at.is_not(None))
                                  .values(locked_at=None)).rowcount)

    def failed(self, name: str) -> int | None:
        """Count a wrong password for ``name``: its failures in a row now, as kept in the store (so a restart or
        another process goes on counting), or None if there is no such user (a guessed name is counted in the
        service's memory only)."""
        with self.engine.begin() as c:
            if not c.execute(sa.update(_USERS).where(_USERS.c.name == name[:100])
                             .values(failures=_USERS.c.failures + 1)).rowcount:
                return None
            return int(c.execute(sa.select(_USERS.c.failures).where(_USERS.c.name == name[:100])).scalar_one())

    def succeeded(self, name: str) -> None:
        """A right password: the failures in a row start again from 0."""
        with self.engine.begin() as c:
            c.execute(sa.update(_USERS).where(_USERS.c.name == name[:100], _USERS.c.failures > 0).values(failures=0))

    def locked(self) -> set[str]:
        """The accounts locked now."""
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(sa.select(_USERS.c.name).where(_USERS.c.locked_at.is_not(None)))}

    def session(self, name: str) -> tuple[str, int] | None:
        """An enabled user's role and session version; None for a removed or disabled one."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(_USERS.c.role, _USERS.c.session_version, _USERS.c.disabled)
                            .where(_USERS.c.name == name[:100])).first()
        if row is None or row[2]:
            return None
        return str(row[0]), int(row[1])

    def count(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(_USERS)).scalar_one())

    def check(self, name: str, password: str) -> str | None:
        """The user's role if the password is right, else None (the same answer for an unknown name)."""
        return self.verify(name, password)[0]

    def verify(self, name: str, password: str) -> tuple[str | None, int, bool]:
        """``check``'s answer, the failed logins in a row kept for the user before this one (0 for no user), and
        whether the account is locked in the database (by this process or another)."""
        from argon2.exceptions import VerificationError

        with self.engine.connect() as c:
            row = c.execute(sa.select(_USERS).where(_USERS.c.name == name[:100])).mappings().first()
        failures = int(row["failures"] or 0) if row else 0
        locked = bool(row and row["locked_at"] is not None)
        try:
            self.hasher.verify(row["password_hash"] if row else self._dummy_hash(), password)
        except VerificationError:
            return None, failures, locked
        return (str(row["role"]) if row and not row["disabled"] else None), failures, locked


def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def _utc(created: Any) -> dt.datetime:
    if isinstance(created, str):
        created = dt.datetime.fromisoformat(created)
    if created.tzinfo is None:  # SQLite keeps no zone; every record is written in UTC
        created = created.replace(tzinfo=dt.UTC)
    return created  # type: ignore[no-any-return]


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _record(row: Any) -> DecisionRecord:
    return DecisionRecord(record_id=row["id"], created_at=_utc(row["created_at"]), user=row["user_name"],
                          entity=row["entity"], subject_id=row["subject_id"], as_of=_date(row["as_of"]),
                          kb_version=row["kb_version"], houfu_version=row["houfu_version"],
                          input=json.loads(row["input"]), facts=json.loads(row["facts"]),
                          report=Report.model_validate_json(row["report"]), received=row["received"])
