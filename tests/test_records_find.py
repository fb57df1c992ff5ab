"""Finding a household again and short record ids (issue 22, §3), on SQLite and on a real PostgreSQL.

Search keys are kept beside each record: ids and names folded (case, spaces anywhere, full-width characters), a
member's resident ID number only as a keyed hash. A record id is any unique prefix of 8 characters or more.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

import houfu
from houfu.cli.commands import main
from houfu.kb.loader import load_default
from houfu.records.finder import fold
from houfu.records.store import AmbiguousRecord, RecordError, RecordStore, Users, default_url

from .test_records import postgres_url  # noqa: F401 - the fixture: a real PostgreSQL, a database per module

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"
#: A resident ID number in form (GB 11643), made up for the tests.
ID_NUMBER = "36073119800101123X"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = default_url(tmp_path / "data") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = RecordStore(url)
    yield opened
    opened.close()


def _decide(store: RecordStore, user: str = "zhang", **changes: object) -> tuple[str, dict[str, object]]:
    """The bundled Dingnan household under a new id and member names of its own; returns (record id, input)."""
    tag = uuid.uuid4().hex[:6]
    raw = yaml.safe_load((EX / "dingnan-household.yaml").read_text(encoding="utf-8"))
    raw["id"] = f"DN-{tag}"
    raw["name"] = f"钟{tag}户"
    raw["members"][0]["name"] = f"钟建华{tag}"
    raw.update(changes)
    kb = load_default()
    record = kb.models.household.model_validate(raw)
    return store.add(record, houfu.evaluator().determine(record, None), user), raw


def test_a_household_is_found_by_id_name_and_member_name_however_typed(store):
    rid, raw = _decide(store)
    member = raw["members"][0]["name"]
    tag = raw["id"].removeprefix("DN-")
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in raw["id"].lower())
    for query, kind in [(member + " ", "member"), ("  " + member, "member"), (f"钟建华 {tag}", "member"),
                        (raw["id"].lower(), "id"), (full_width, "id"), (f"dn - {tag.upper()}", "id"),
                        (raw["name"] + "\u3000", "name")]:
        hits = store.search(query)
        assert [h.subject_id for h in hits] == [raw["id"]], query
        assert kind in hits[0].matched and hits[0].record_id == rid, query
    assert store.search("钟建华 " + uuid.uuid4().hex[:6]) == []
    assert store.search("   ") == []
    assert store.search("%") == [] and store.search("_") == []  # a LIKE wildcard is a character, not a pattern


def test_an_id_number_is_found_by_its_hash_and_never_kept_in_the_clear(store):
    members = yaml.safe_load((EX / "dingnan-household.yaml").read_text(encoding="utf-8"))["members"]
    members[1]["id_number"] = ID_NUMBER
    rid, raw = _decide(store, members=members)
    hits = store.search(" 360731 19800101 123x ")  # spaces and a small x
    assert raw["id"] in [h.subject_id for h in hits]
    assert "idno" in next(h for h in hits if h.subject_id == raw["id"]).matched
    assert raw["id"] not in [h.subject_id for h in store.search(ID_NUMBER[:-1] + "0")]  # another number
    with store.engine.connect() as c:
        dump = json.dumps([list(map(str, r)) for t in ("decision_records", "record_keys", "record_chain")
                           for r in c.execute(sa.text(f"SELECT * FROM {t}"))], ensure_ascii=False)
    assert ID_NUMBER not in dump and ID_NUMBER.lower() not in dump and "19800101" not in dump
    rec = store.get(rid)
    assert "id_number" not in json.dumps(rec.input) and "id_number" not in json.dumps(rec.facts)


def test_the_received_text_keeps_no_id_number_in_the_clear(store):
    record = load_default().models.household.model_validate(
        {"id": f"R-{uuid.uuid4().hex[:6]}", "jurisdiction": "dingnan", "members": [{"name": "甲", "id_number": ID_NUMBER}]})
    rid = store.add(record, houfu.evaluator().determine(record, None), "zhang",
                    received=f"id: x\nmembers:\n  - id_number: {ID_NUMBER}\n")
    received = store.get(rid).received or ""
    assert ID_NUMBER not in received and "360731********123X" in received


def test_an_id_number_out_of_form_is_refused_naming_the_field() -> None:
    from houfu.io.inputs import InputError, parse_record
    from houfu.kb.facts import Household

    with pytest.raises(InputError) as err:
        parse_record({"id": "x", "members": [{"id_number": "12345"}]}, Household, "h.yaml", load_default())
    assert err.value.field == "members[0].id_number" and "18 characters" in err.value.message


def test_recent_households_come_first_and_each_household_once(store):
    tag = uuid.uuid4().hex[:6]
    first, _ = _decide(store, id=f"OLD-{tag}", name=f"旧{tag}户")
    second, _ = _decide(store, id=f"NEW-{tag}", name=f"新{tag}户")
    again, _ = _decide(store, id=f"OLD-{tag}", name=f"旧{tag}户")  # the old household decided again, last
    hits = store.search(tag)
    assert [h.subject_id for h in hits] == [f"OLD-{tag}", f"NEW-{tag}"]
    assert hits[0].record_id == again and hits[0].records == 2 and hits[1].record_id == second
    assert [h.subject_id for h in store.search(tag, limit=1)] == [f"OLD-{tag}"]


def test_a_caseworker_finds_only_their_own_and_their_teams_households(store):
    users = Users(store)
    tag = uuid.uuid4().hex[:6]
    for name, team in [(f"a{tag}", f"site-{tag}"), (f"b{tag}", f"site-{tag}"), (f"c{tag}", None)]:
        users.add(name, "a-long-password-" + tag, "caseworker", team)
    _decide(store, f"a{tag}", id=f"A-{tag}")
    _decide(store, f"b{tag}", id=f"B-{tag}")
    _decide(store, f"c{tag}", id=f"C-{tag}")
    assert users.makers(f"a{tag}", "caseworker") == {f"a{tag}", f"b{tag}"}
    assert users.makers(f"c{tag}", "caseworker") == {f"c{tag}"}
    assert users.makers(f"a{tag}", "supervisor") is None
    found = {h.subject_id for h in store.search(tag, users.makers(f"a{tag}", "caseworker"))}
    assert found == {f"A-{tag}", f"B-{tag}"}
    assert {h.subject_id for h in store.search(tag, {f"c{tag}"})} == {f"C-{tag}"}
    assert len(store.search(tag)) == 3


def test_a_record_opens_by_any_unique_prefix_of_eight_or_more(store):
    rid, _ = _decide(store)
    for given in (rid, rid[:8], rid[:12], " " + rid[:12].upper() + " ", rid[:20]):
        assert store.find(given).record_id == rid
    with pytest.raises(RecordError, match="at least 8 characters"):
        store.resolve(rid[:7])
    with pytest.raises(RecordError, match="no decision record"):
        store.resolve("f" * 31 + "0" if not rid.startswith("f" * 31) else "0" * 32)
    with pytest.raises(RecordError, match="no decision record"):
        store.resolve(rid[:12], makers={"someone-else"})


def _twin(store: RecordStore, rid: str) -> str:
    """A record kept with an id that shares the first 12 characters of ``rid`` (a copy of its row under that id:
    uuid4 ids share 8 characters once in 4 billion, so the test makes the case)."""
    twin = rid[:12] + ("0" if rid[12] != "0" else "1") + rid[13:]
    with store.engine.begin() as c:
        row = dict(c.execute(sa.text("SELECT * FROM decision_records WHERE id = :i"), {"i": rid}).mappings().one())
        row["id"] = twin
        cols = ", ".join(row)
        c.execute(sa.text(f"INSERT INTO decision_records ({cols}) VALUES ({', '.join(':' + k for k in row)})"), row)
    return twin


def test_an_ambiguous_prefix_names_its_candidates(store):
    rid, _ = _decide(store)
    twin = _twin(store, rid)
    with pytest.raises(AmbiguousRecord) as err:
        store.resolve(rid[:12])
    assert sorted(err.value.candidates) == sorted([rid, twin])
    assert rid in str(err.value) and twin in str(err.value) and "give more of it" in str(err.value)
    assert store.find(rid[:13]).record_id == rid  # one more character tells them apart


def test_the_clause_page_list_reads_touched_records_from_the_keys(store):
    rid, raw = _decide(store)
    report = store.get(rid).report
    touched = {d.clause_id for d in report.determinations if d.status.value == "applies"}
    untouched = {d.clause_id for d in report.determinations} - touched
    clause = sorted(touched)[0]
    assert rid in [r.record_id for r in store.touching(clause)]
    assert next(r for r in store.touching(clause) if r.record_id == rid).name == raw["name"]
    for other in untouched:
        assert rid not in [r.record_id for r in store.touching(other)]


def test_records_search_and_show_on_the_command_line(tmp_path):
    data = tmp_path / "data"
    runner = CliRunner()
    r = runner.invoke(main, ["check", str(EX / "dingnan-household.yaml"), "--record", "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    rid = r.output.split("recorded as ")[1].split()[0]
    r = runner.invoke(main, ["records", "search", " 钟建华　", "--data-dir", str(data)])  # a full-width space too
    assert r.exit_code == 0 and r.output.startswith(rid[:12] + " ") and "DN-2023-0417" in r.output
    short = r.output.split()[0]
    assert len(short) == 12
    r = runner.invoke(main, ["records", "show", short, "--data-dir", str(data)])
    assert r.exit_code == 0 and r.output.startswith(f"record {rid}:")
    r = runner.invoke(main, ["records", "search", "钟建华", "--json", "--data-dir", str(data)])
    assert json.loads(r.output)[0]["record_id"] == rid
    r = runner.invoke(main, ["records", "search", "nobody", "--data-dir", str(data)])
    assert r.exit_code == 0 and "nothing found" in r.output
    r = runner.invoke(main, ["records", "show", rid[:5], "--data-dir", str(data)])
    assert r.exit_code == 2 and "at least 8 characters" in r.output and "Traceback" not in r.output
    with RecordStore(f"sqlite:///{data / 'records.sqlite3'}") as store:
        twin = _twin(store, rid)
    for command in (["records", "show", rid[:12]], ["records", "replay", rid[:12]],
                    ["records", "diff", rid[:12], twin]):
        r = runner.invoke(main, [*command, "--data-dir", str(data)])
        assert r.exit_code == 2, (command, r.output)
        assert len(r.output.strip().splitlines()) == 1 and rid in r.output and twin in r.output, r.output
    r = runner.invoke(main, ["records", "replay", rid[:13], "--data-dir", str(data)])
    assert r.exit_code == 0 and rid in r.output


def test_on_postgresql_the_services_role_keeps_and_reads_the_search_keys(request):
    from urllib.parse import urlsplit

    url = request.getfixturevalue("postgres_url")
    owner = RecordStore(url)
    login = f"houfu_app_{uuid.uuid4().hex[:8]}"
    with owner.engine.begin() as c:
        c.execute(sa.text(f"CREATE ROLE {login} LOGIN PASSWORD 'app-password-1' IN ROLE houfu_service"))
    parts = urlsplit(url)
    service = RecordStore(f"postgresql://{login}:app-password-1@{parts.hostname}:{parts.port}{parts.path}")
    try:
        members = yaml.safe_load((EX / "dingnan-household.yaml").read_text(encoding="utf-8"))["members"]
        members[0]["id_number"] = ID_NUMBER
        rid, raw = _decide(service, members=members)
        assert raw["id"] in [h.subject_id for h in service.search(ID_NUMBER)]
        assert service.find(rid[:12]).record_id == rid
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), service.engine.begin() as c:
            c.execute(sa.text("DELETE FROM record_keys"))
    finally:
        service.close()
        owner.close()


def test_fold_is_nfkc_casefolded_without_spaces() -> None:
    assert fold(" ＤＮ－２０２３　0417 ") == "dn-20230417"
    assert fold("钟 建 华\t") == "钟建华"
