"""Decision records (issue 13, §2): append-only, replayable, on SQLite and on a real PostgreSQL.

The PostgreSQL tests need a server: `make test` starts a throwaway one (scripts/with-test-servers.sh) and sets
HOUFU_TEST_POSTGRES_URL. Without it they fail with that instruction; they are never skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import houfu
from houfu.cli.commands import main
from houfu.kb.facts import Household
from houfu.kb.loader import load_default
from houfu.records.store import RecordError, RecordStore, default_url

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"


@pytest.fixture(scope="module")
def postgres_url():
    base = os.environ.get("HOUFU_TEST_POSTGRES_URL")
    if not base:
        pytest.fail("HOUFU_TEST_POSTGRES_URL is not set: run the tests through `make test`, or "
                    "scripts/with-test-servers.sh .venv/bin/python -m pytest ..., which starts a throwaway PostgreSQL")
    name = f"houfu_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return default_url(tmp_path / "data")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def open_store():
    opened: list[RecordStore] = []

    def make(url: str) -> RecordStore:
        opened.append(RecordStore(url))
        return opened[-1]

    yield make
    for s in opened:
        s.close()


def _household(name: str = "dingnan-household") -> Household:
    """A bundled household under an id of its own, so tests sharing a database do not see each other's."""
    h = load_default().models.household.model_validate(yaml.safe_load((EX / f"{name}.yaml").read_text(encoding="utf-8")))
    return h.model_copy(update={"id": f"{h.id}-{uuid.uuid4().hex[:6]}"})


def test_a_record_keeps_input_facts_report_and_provenance(store_url, open_store):
    store = open_store(store_url)
    ev = houfu.evaluator()
    h = _household()
    report = ev.determine(h, dt.date(2026, 1, 1))
    rid = store.add(h, report, "钟主任")
    rec = store.get(rid)
    assert rec.user == "钟主任" and rec.subject_id == h.id and rec.as_of == dt.date(2026, 1, 1)
    assert rec.kb_version == ev.kb.version and rec.houfu_version == report.houfu_version
    assert rec.input["members"][0]["name"] == "钟建华" and rec.facts["hukou_at_site"] is False
    assert rec.report == report
    assert abs((dt.datetime.now(dt.UTC) - rec.created_at).total_seconds()) < 60


def test_records_are_append_only_in_the_database_itself(store_url, open_store):
    store = open_store(store_url)
    h = _household()
    rid = store.add(h, houfu.evaluator().determine(h, dt.date(2026, 1, 1)), "a")
    for sql in ("UPDATE decision_records SET user_name = 'b'", "DELETE FROM decision_records"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
            c.execute(sa.text(sql))
    assert store.get(rid).user == "a"


def test_a_correction_is_a_new_record_and_both_are_listed_newest_first(store_url, open_store):
    store = open_store(store_url)
    ev = houfu.evaluator()
    h = _household()
    first = store.add(h, ev.determine(h, dt.date(2026, 1, 1)), "a")
    corrected = h.model_copy(update={"meets_housing_security_conditions": True})
    second = store.add(corrected, ev.determine(corrected, dt.date(2026, 1, 1)), "a")
    assert [r.record_id for r in store.list(h.id)] == [second, first]
    assert store.get(first).facts.get("meets_housing_security_conditions") is None


def test_replay_gives_the_same_result_and_fails_loudly_under_another_kb_version(store_url, tmp_path, open_store):
    store = open_store(store_url)
    ev = houfu.evaluator()
    h = _household()
    rid = store.add(h, ev.determine(h, dt.date(2026, 1, 1)), "a")
    assert store.replay(ev, rid).same
    # The same record under a changed knowledge base: refused, or shown with what changed.
    import shutil

    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("__pycache__"))
    clauses = policies / "dingnan-2023" / "clauses.yaml"
    text = clauses.read_text(encoding="utf-8")
    clauses.write_text(text.replace("      when:\n        fact: hukou_at_site\n        eq: false\n",
                                    "      when:\n        fact: hukou_at_site\n        eq: true\n", 1),
                       encoding="utf-8")
    other = houfu.evaluator(houfu.load(policies))
    assert other.kb.version != ev.kb.version
    with pytest.raises(RecordError, match="was decided under kb_version"):
        store.replay(other, rid)
    replay = store.replay(other, rid, against_current=True)
    assert not replay.same and any(old != new for _, old, new in replay.changes)


def test_a_missing_record_is_a_record_error(store_url, open_store):
    with pytest.raises(RecordError, match="no decision record"):
        open_store(store_url).get("nope")


def test_check_record_keeps_every_report_of_a_batch_and_prints_its_id(tmp_path):
    data = tmp_path / "data"
    r = CliRunner().invoke(main, ["check", str(EX / "batch-households.yaml"), "--record", "--user", "张三",
                                  "--data-dir", str(data), "--json"])
    assert r.exit_code == 2  # the batch holds one bad record, reported; the rest are decided and recorded
    ids = [x["record_id"] for x in json.loads(r.stdout)]
    assert ids and all(ids)
    listed = json.loads(CliRunner().invoke(main, ["records", "list", "--data-dir", str(data), "--json"]).output)
    assert sorted(x["record_id"] for x in listed) == sorted(ids) and {x["user"] for x in listed} == {"张三"}
    shown = CliRunner().invoke(main, ["records", "show", ids[0], "--data-dir", str(data), "--json"])
    assert json.loads(shown.output)["record_id"] == ids[0]
    replay = CliRunner().invoke(main, ["records", "replay", ids[0], "--data-dir", str(data)])
    assert replay.exit_code == 0 and "the same result" in replay.output


def test_a_store_that_cannot_be_opened_is_one_line_without_the_password():
    r = CliRunner().invoke(main, ["records", "list", "--database", "postgresql://u:secret@127.0.0.1:1/x"])
    assert r.exit_code == 2 and "secret" not in r.output and "cannot open the decision records" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_the_postgresql_store_is_a_real_server(postgres_url, open_store):
    engine = open_store(postgres_url).engine
    assert engine.dialect.name == "postgresql"
    with engine.connect() as c:
        assert "PostgreSQL" in c.execute(sa.text("SELECT version()")).scalar_one()


def test_a_record_keeps_the_input_exactly_as_received_beside_the_accepted_one(store_url, open_store):
    store = open_store(store_url)
    h = _household()
    as_typed = "id: X\nmembers:\n  - labor_capacity: 完全   # as the caseworker typed it\n"
    rid = store.add(h, houfu.evaluator().determine(h, dt.date(2026, 1, 1)), "a", as_typed)
    assert store.get(rid).received == as_typed
    assert store.add(h, houfu.evaluator().determine(h, dt.date(2026, 1, 1)), "a") and \
        store.list(h.id)[0].received is None  # nothing received, nothing claimed


def test_a_screened_caseload_is_kept_append_only_with_its_files_fingerprints(store_url, open_store):
    store = open_store(store_url)
    files = [{"role": "caseload", "format": "csv", "bytes": 12, "sha256": "ab" * 32, "name_given": "户.csv"}]
    sid = store.add_screen("李", dt.date(2026, 1, 1), "e6b60274cc54", "1.0", files, 10, 8, 2,
                           {"by_measure": {"dn.4.1.labour_export": {"applies": 3}}})
    got = next(s for s in store.screens(1000) if s.screen_id == sid)
    assert (got.user, got.rows_in, got.screened, got.rejected, got.files) == ("李", 10, 8, 2, files)
    assert got.summary["by_measure"]["dn.4.1.labour_export"] == {"applies": 3}
    for sql in ("UPDATE screen_runs SET rows_in = 0", "DELETE FROM screen_runs"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as c:
            c.execute(sa.text(sql))


def test_records_kept_before_the_received_column_read_back_with_nothing_received(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = default_url(tmp_path / "old")
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(ROOT / "houfu" / "records" / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    h = _household()
    report = houfu.evaluator().determine(h, dt.date(2026, 1, 1))
    with engine.begin() as c:  # a record as a store of revision 0002 wrote it
        c.execute(sa.text("INSERT INTO decision_records VALUES (:id, :t, 'a', 'household', :s, '2026-01-01', "
                          ":k, :v, :i, '{}', :r)"),
                  {"id": "0" * 32, "t": dt.datetime.now(dt.UTC), "s": h.id, "k": report.kb_version,
                   "v": report.houfu_version, "i": h.model_dump_json(), "r": report.model_dump_json()})
    engine.dispose()
    with RecordStore(url) as store:  # opening upgrades to the head revision
        rec = store.get("0" * 32)
        assert rec.received is None and rec.report == report
        with store.engine.connect() as c:
            from alembic.script import ScriptDirectory

            head = ScriptDirectory.from_config(config).get_current_head()
            assert head == "0008"  # failed logins counted in the store (issue 23), after the search keys (0007)
            assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
        # A record kept before the chain is chained by the migration, and verifies.
        assert store.verify().ok and store.verify().records == 1
        # and one kept before the search keys is found by them (its id, name and members' names).
        assert [x.record_id for x in store.search(h.id.lower() + " ")] == ["0" * 32]
        assert "member" in store.search(h.members[0].name or "-")[0].matched


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["input", "facts", "report", "received", "user_name", "subject_id"]),
                       st.one_of(st.none(), st.text(), st.text(alphabet=st.characters(max_codepoint=0x3000)))))
def test_a_record_is_hashed_in_the_form_every_kept_chain_was_hashed_in(texts):
    """record_hash serialises with orjson for speed; the bytes hashed must stay those of
    json.dumps(ensure_ascii=False, sort_keys=True, separators=(",", ":")), or every chain kept stops verifying:
    the same escapes for quotes, backslashes, control characters, U+2028 and any other text."""
    import hashlib

    from houfu.records.store import _HASHED, record_hash

    row = {k: "x" for k in _HASHED} | texts
    row["created_at"], row["as_of"] = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC), dt.date(2026, 1, 1)
    content = {k: row[k] for k in _HASHED} | {"created_at": "2026-01-02T03:04:05.678901+00:00", "as_of": "2026-01-01"}
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert record_hash(row, "ab" * 32) == hashlib.sha256(f"{'ab' * 32}\n{blob}".encode()).hexdigest()
