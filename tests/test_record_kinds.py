"""Record kinds as data (issue 26, item 1): a document declares a 帮扶车间 in its vocabulary, with its facts, its link
to the household that lists it and the headers a caseload carries it under; the reference evaluator, durable-rules
and the column evaluator decide it with no code of its own, and its subsidy (workers × 200 yuan × months, at most
50,000 a year) is the same figure in the single and the column form, at the boundaries.

The document is examples/workshop/anyuan-2025, written for houfu (not an official document), in a copy of the
policy folder (tests/new_documents.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from houfu.cli.commands import main
from houfu.engine.evaluator import EngineKind, evaluator_for
from houfu.kb.loader import KBError, load
from houfu.kb.models import ENTITY_KIND
from tests.new_documents import BUNDLED, policy_copy_with_new_documents
from tests.test_vector import _check_batch

AS_OF = dt.date(2025, 12, 1)
SUBSIDY = "ay25.1.1.workshop_subsidy"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return policy_copy_with_new_documents(tmp_path_factory.mktemp("kinds") / "policies")


@pytest.fixture(scope="module")
def kb(folder):
    return load(folder)


def _household(kb, hid, *entities):
    return kb.models.household.model_validate({"id": hid, "jurisdiction": "anyuan", "entities": list(entities)})


def test_the_workshop_is_a_record_kind_of_the_document_s_vocabulary_and_nowhere_else(kb):
    assert list(kb.models.records) == ["workshop", "training_class"] and kb.models.records["workshop"].zh == "帮扶车间"
    assert dict(kb.models.kind_of) == {"ay_workshop_workers": "workshop", "ay_workshop_months": "workshop",
                                       "ay_class_trainees": "training_class", "ay_class_days": "training_class"}
    assert kb.fact_labels[ENTITY_KIND].labels == {"business": "经营实体", "workshop": "帮扶车间",
                                                  "training_class": "技能培训班"}
    assert {ENTITY_KIND, "ay_workshop_workers"} <= set(kb.models.entity.model_fields)
    bundled = load(BUNDLED)  # the installed folder declares no kind: its models are as they were
    assert not bundled.models.records and ENTITY_KIND not in bundled.models.entity.model_fields


# workers, months -> the subsidy (200 × workers × months, at most 50,000), and whether the cap bit
BOUNDARIES = [
    (1, 1, 200.0, False),       # the least a workshop that employs anyone gets
    (10, 6, 12000.0, False),
    (25, 10, 50000.0, False),   # exactly the cap: paid in full, not capped
    (21, 12, 50000.0, True),    # 50,400 capped at 50,000
    (250, 1, 50000.0, False),
    (251, 1, 50000.0, True),
    (3, 0, 0.0, False),         # no month of employment yet: nothing owed this year
]


@pytest.mark.parametrize("workers,months,value,capped", BOUNDARIES)
def test_the_workshop_subsidy_at_its_boundaries_on_both_single_evaluators(kb, workers, months, value, capped):
    record = _household(kb, "w", {"id": "w1", ENTITY_KIND: "workshop", "ay_workshop_workers": workers,
                                  "ay_workshop_months": months})
    for engine in (EngineKind.plain, EngineKind.rete):
        d = evaluator_for(kb).determine(record, AS_OF, engine).by_id(SUBSIDY)
        assert d.status.value == "applies", engine
        (amount,) = d.amounts
        assert (amount.value, amount.basis["capped"], amount.entity) == (value, capped, "w1"), engine


def test_the_column_form_gives_the_same_statuses_and_figures_as_the_single_form(kb):
    records = [_household(kb, f"h{i}", {"id": f"w{i}", ENTITY_KIND: "workshop", "ay_workshop_workers": w,
                                        "ay_workshop_months": m}) for i, (w, m, _, _) in enumerate(BOUNDARIES)]
    records += [
        _household(kb, "none", {"id": "w", ENTITY_KIND: "workshop", "ay_workshop_workers": 0, "ay_workshop_months": 5}),
        _household(kb, "shop", {"id": "s", ENTITY_KIND: "business"}),
        _household(kb, "unknown-kind", {"id": "u"}),
        _household(kb, "unknown-workers", {"id": "w", ENTITY_KIND: "workshop", "ay_workshop_months": 2}),
        _household(kb, "unknown-months", {"id": "w", ENTITY_KIND: "workshop", "ay_workshop_workers": 2}),
        _household(kb, "two", {"id": "s", ENTITY_KIND: "business"},
                   {"id": "w", ENTITY_KIND: "workshop", "ay_workshop_workers": 4, "ay_workshop_months": 3}),
        kb.models.household.model_validate({"id": "no-list", "jurisdiction": "anyuan"}),
    ]
    _check_batch(kb, records, AS_OF)  # plain against columns (statuses, missing facts, amounts); rete against columns


def test_only_the_records_of_the_kind_are_paid_and_an_unknown_part_is_asked_not_guessed(kb):
    ev = evaluator_for(kb)

    def subsidy(*entities):
        return ev.determine(_household(kb, "h", *entities), AS_OF).by_id(SUBSIDY)

    two = subsidy({"id": "shop", ENTITY_KIND: "business"},
                  {"id": "w", ENTITY_KIND: "workshop", "ay_workshop_workers": 4, "ay_workshop_months": 3})
    assert [(a.entity, a.value) for a in two.amounts] == [("w", 2400.0)]  # one amount, the workshop's
    assert subsidy({"id": "shop", ENTITY_KIND: "business"}).status.value == "does_not_apply"
    unknown = subsidy({"id": "u", "ay_workshop_workers": 4, "ay_workshop_months": 3})  # its kind not given
    assert unknown.status.value == "undetermined" and unknown.missing == [f"entities[0].{ENTITY_KIND}"]
    months = subsidy({"id": "w", ENTITY_KIND: "workshop", "ay_workshop_workers": 4})
    assert months.status.value == "applies" and [(a.value, a.missing) for a in months.amounts] == [
        (None, ["entities[0].ay_workshop_months"])]


def test_a_kind_s_fact_on_an_entity_of_another_kind_is_one_line_naming_the_field(folder, tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text("id: h\njurisdiction: 安远县\nentities:\n- {id: w, entity_kind: 帮扶车间, ay_workshop_workers: 3}\n"
                    "- {id: s, entity_kind: business, ay_workshop_workers: 3}\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "check", str(path)])
    assert got.exit_code == 2 and "Traceback" not in got.output
    assert "entities[1].ay_workshop_workers: a fact of a 帮扶车间 (workshop), given on an entity of kind 'business'" \
        in got.output


def test_a_caseload_carries_workshops_under_the_headers_the_vocabulary_declares(folder, kb, tmp_path):
    """A households table and a workshops table (户编号, 车间名称, 类型 spelled 帮扶车间 or 扶贫车间, 吸纳人数 …):
    the screener's figures are the single path's."""
    import csv

    (tmp_path / "hh.csv").write_text("户编号,县\nh1,安远县\nh2,安远县\nh3,安远县\nh4,安远县\n", encoding="utf-8")
    (tmp_path / "ws.csv").write_text(
        "户编号,车间编号,车间名称,类型,吸纳人数,吸纳就业月数\nh1,w1,服装车间,帮扶车间,10,6\nh2,w2,电子车间,扶贫车间,21,12\n"
        "h3,s3,小卖部,经营实体,,\nh4,w4,竹编车间,帮扶车间,,3\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "screen", str(tmp_path / "hh.csv"), "--businesses",
                                    str(tmp_path / "ws.csv"), "--as-of", AS_OF.isoformat(), "-o",
                                    str(tmp_path / "out.csv"), "--long"])
    assert got.exit_code == 0, got.output
    with (tmp_path / "out.csv").open(encoding="utf-8") as fh:
        rows = {r["household"]: r for r in csv.DictReader(fh) if r["measure"] == SUBSIDY}
    assert {h: (r["status"], r["amount"]) for h, r in rows.items()} == {
        "h1": ("applies", "12000"), "h2": ("applies", "50000"), "h3": ("does_not_apply", ""),
        "h4": ("undetermined", "")}
    ev = evaluator_for(kb)
    single = ev.determine(_household(kb, "h2", {"id": "w2", "name": "电子车间", ENTITY_KIND: "workshop",
                                                "ay_workshop_workers": 21, "ay_workshop_months": 12}), AS_OF)
    assert single.by_id(SUBSIDY).amounts[0].value == 50000.0


@pytest.mark.parametrize("file,old,new,message", [
    ("anyuan-2025/calculators.yaml", "kind: workshop", "kind: workshp",
     "'workshp' is no record kind declared under `records:`"),
    ("anyuan-2025/calculators.yaml", "per: entity", "per: household",
     "`kind` (a declared record kind) is given for a per-entity amount only"),
    ("anyuan-2025/vocabulary.yaml", "    ay_workshop_months: [吸纳就业月数, 用工月数]", "    age: [年龄]",
     "records[workshop].columns.age: not a field of a 帮扶车间"),
    ("anyuan-2025/vocabulary.yaml", "- id: workshop\n", "- id: entity\n", "is a record every vocabulary has"),
    ("anyuan-2025/vocabulary.yaml", "- id: ay_workshop_workers\n  record: workshop",
     "- id: ay_workshop_workers\n  record: workshops", "facts[ay_workshop_workers].record"),
    ("anyuan-2025/vocabulary.yaml", "    site: [安置点编号, 所属安置点编号]", "    household: [户编号]",
     "records[training_class].columns.household: not a field of a 技能培训班"),
    ("anyuan-2025/vocabulary.yaml", "  within: site\n", "",
     "records[training_class].columns.site: not a field of a 技能培训班: entity_kind, id, name, household (the "
     "household it is linked to)"),
])
def test_a_mistake_in_a_declared_kind_is_one_line_naming_the_file(folder, tmp_path, file, old, new, message):
    copy = tmp_path / "policies"
    shutil.copytree(folder, copy)
    path = copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(copy), "kb", "validate"])
    assert got.exit_code != 0 and "Traceback" not in got.output
    assert Path(file).name in got.output and message in got.output, got.output


def test_a_site_rule_over_entities_needs_a_kind_linked_to_a_site(folder, tmp_path):
    copy = tmp_path / "policies"
    shutil.copytree(folder, copy)
    path = copy / "anyuan-2025" / "vocabulary.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  within: site\n", "").replace(
        "    site: [安置点编号, 所属安置点编号]\n", ""), encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(copy), "kb", "validate"])
    assert got.exit_code != 0 and "Traceback" not in got.output
    assert "clauses.yaml: clauses[ay25.1.3].measures[ay25.1.3.training_subsidy].rule.when: a quantifier over entities " \
           "applies to households, and over entities to sites once a record kind is declared `within: site`" in got.output


def test_a_kind_declared_twice_names_the_first_file(folder, tmp_path):
    copy = tmp_path / "policies"
    shutil.copytree(folder, copy)
    (copy / "xinfeng-2024" / "vocabulary.yaml").write_text(
        (copy / "xinfeng-2024" / "vocabulary.yaml").read_text(encoding="utf-8")
        + "records:\n- {id: workshop, zh: 车间, en: workshop}\n", encoding="utf-8")
    with pytest.raises(KBError, match="already declared in .*vocabulary.yaml"):
        load(copy)


# --- a record kind linked to a site (within: site): a 技能培训班 a site runs, in a file of its own ---------------

TRAINING = "ay25.1.3.training_subsidy"
SITE_DAY = dt.date(2025, 6, 1)


def _site(kb, sid, *classes, jurisdiction="anyuan"):
    return kb.models.site.model_validate({"id": sid, "jurisdiction": jurisdiction, "entities": list(classes)})


def _class(cid, trainees, days, **more):
    return {"id": cid, ENTITY_KIND: "training_class", "ay_class_trainees": trainees, "ay_class_days": days} | more


def test_a_kind_linked_to_a_site_is_listed_by_the_site_and_refused_on_a_household(folder, kb, tmp_path):
    assert kb.models.records["training_class"].within == "site" and "entities" in kb.models.site.model_fields
    site = tmp_path / "site.yaml"
    site.write_text("id: S\njurisdiction: 安远县\nentities:\n- {id: c, entity_kind: 技能培训班, ay_class_trainees: 2}\n"
                    "- {id: w, entity_kind: workshop}\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "site", str(site)])
    assert got.exit_code == 2 and "Traceback" not in got.output
    assert "entities[1].entity_kind: a 帮扶车间 is linked to a household, not a site" in got.output, got.output
    home = tmp_path / "h.yaml"
    home.write_text("id: h\njurisdiction: 安远县\nentities:\n- {id: c, entity_kind: training_class}\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "check", str(home)])
    assert got.exit_code == 2 and "Traceback" not in got.output
    assert "entities[0].entity_kind: a 技能培训班 is linked to a site, not a household" in got.output, got.output
    site.write_text("id: S\njurisdiction: anyuan\nentities:\n- {id: c, entity_kind: training_class}\n"
                    "- {id: c, entity_kind: training_class}\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "site", str(site)])
    assert got.exit_code == 2 and "entities[1].id: 'c' is also the id of entities[0]" in got.output, got.output


# trainees, days -> the subsidy (30 yuan × trainees × days, the days counted to 15 at most)
SITE_BOUNDARIES = [(1, 1, 30.0), (20, 14, 8400.0), (20, 15, 9000.0), (20, 16, 9000.0), (3, 0, 0.0)]


@pytest.mark.parametrize("trainees,days,value", SITE_BOUNDARIES)
def test_the_training_subsidy_at_its_boundaries_on_both_single_evaluators(kb, trainees, days, value):
    for engine in (EngineKind.plain, EngineKind.rete):
        d = evaluator_for(kb).determine(_site(kb, "S", _class("c", trainees, days)), SITE_DAY, engine).by_id(TRAINING)
        assert d.status.value == "applies", engine
        assert [(a.entity, a.value) for a in d.amounts] == [("c", value)], engine


def test_the_column_form_decides_a_site_s_records_as_the_single_form(kb):
    records = [_site(kb, f"s{i}", _class(f"c{i}", t, d)) for i, (t, d, _) in enumerate(SITE_BOUNDARIES)]
    records += [
        _site(kb, "two", _class("a", 10, 5), _class("b", 0, 9), _class("c", 3, 20)),
        _site(kb, "none"),
        kb.models.site.model_validate({"id": "unknown", "jurisdiction": "anyuan"}),
        _site(kb, "no-trainees", {"id": "c", ENTITY_KIND: "training_class", "ay_class_days": 3}),
        _site(kb, "no-days", {"id": "c", ENTITY_KIND: "training_class", "ay_class_trainees": 3}),
        _site(kb, "no-kind", {"id": "c", "ay_class_trainees": 3, "ay_class_days": 3}),
        _site(kb, "dingnan", _class("c", 5, 5), jurisdiction="dingnan"),
    ]
    _check_batch(kb, records, SITE_DAY)  # plain against columns (statuses, missing facts, amounts); rete against columns


def _csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _screen_sites(folder, tmp_path, caseload, *more):
    import csv

    out = tmp_path / "out.csv"
    got = CliRunner().invoke(main, ["--policies", str(folder), "screen", str(caseload), "--sites", "--as-of",
                                    SITE_DAY.isoformat(), "-o", str(out), "--long", "-q", "--lang", "en", *more])
    with out.open(encoding="utf-8") as fh:
        rows = {r["household"]: (r["status"], r["amount"]) for r in csv.DictReader(fh) if r["measure"] == TRAINING}
    return got, rows


def test_a_caseload_carries_a_site_s_classes_in_a_file_of_their_own_and_bad_links_are_one_line_each(folder, tmp_path):
    """A sites table and a classes file with no kind column (every row a 技能培训班), each row naming its site by id;
    a class of no known site, or of no site, is one line naming the file, the row and the column, and the sites are
    screened all the same."""
    import csv

    sites = _csv(tmp_path / "sites.csv", "id,jurisdiction\nAY-1,anyuan\nAY-2,anyuan\nAY-3,anyuan\nAY-4,anyuan\n")
    classes = _csv(tmp_path / "classes.csv", "安置点编号,班次编号,培训班名称,参训人数,培训天数\nAY-1,c1,电商培训班,20,15\n"
                   "AY-1,c2,家政培训班,20,16\nAY-2,c3,厨师班,0,5\nAY-9,c4,无此点班,3,3\n,c5,无点班,3,3\nAY-3,c6,缺天班,4,\n")
    got, rows = _screen_sites(folder, tmp_path, sites, "--businesses", str(classes))
    assert got.exit_code == 2 and "Traceback" not in got.output, got.output
    assert rows == {"AY-1": ("applies", "18000"), "AY-2": ("does_not_apply", ""), "AY-3": ("applies", ""),
                    "AY-4": ("does_not_apply", "")}  # AY-4 ran no class: a site with a classes file and none listed
    with (tmp_path / "out.errors.csv").open(encoding="utf-8-sig") as fh:
        errors = [(r["file"], r["row"], r["column"], r["reason"]) for r in csv.DictReader(fh)]
    assert errors == [(str(classes), "5", "安置点编号", "no site 'AY-9' in the sites table"),
                      (str(classes), "6", "安置点编号", "no site id")]
    assert "businesses: 6 row(s) in, 4 joined to a site, 2 not (above)" in got.output
    assert "安置点编号: 1 row(s) name no site in the sites table, e.g. row 5 'AY-9'" in got.output


def test_a_ledger_workbook_s_classes_sheet_is_read_as_the_sites_records(folder, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "安置点"
    for row in (["id", "jurisdiction"], ["AY-1", "anyuan"], ["AY-2", "anyuan"]):
        sheet.append(row)
    classes = book.create_sheet("技能培训班台账")
    for row in (["安远县安置点技能培训班台账"], ["安置点编号", "班次编号", "参训人数", "培训天数"], ["AY-1", "c1", 1, 1],
                ["AY-2", "c2", 21, 30]):
        classes.append(row)
    book.save(tmp_path / "ledger.xlsx")
    got, rows = _screen_sites(folder, tmp_path, tmp_path / "ledger.xlsx")
    assert got.exit_code == 0, got.output
    assert rows == {"AY-1": ("applies", "30"), "AY-2": ("applies", "9450")}


def test_a_classes_file_with_no_site_column_is_one_line_naming_it(folder, tmp_path):
    sites = _csv(tmp_path / "sites.csv", "id,jurisdiction\nAY-1,anyuan\n")
    classes = _csv(tmp_path / "classes.csv", "班次编号,参训人数,培训天数\nc1,2,2\n")
    got = CliRunner().invoke(main, ["--policies", str(folder), "screen", str(sites), "--sites", "--businesses",
                                    str(classes), "-q"])
    assert got.exit_code == 2 and "Traceback" not in got.output
    assert f"{classes}: -: no site id column (安置点编号 or 所属安置点编号 or site): each record names its site" in got.output


# --- a failed rule's explanation names the kind in the vocabulary's words ---------------------------------------

def test_a_failed_workshop_rule_s_explanation_names_the_workshop_not_some_business(folder, kb, tmp_path):
    path = tmp_path / "h.yaml"
    path.write_text("id: h\njurisdiction: anyuan\nentities: [{id: w, name: 竹编车间, entity_kind: workshop, "
                    "ay_workshop_workers: 0, ay_workshop_months: 3}]\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "explain", str(path), SUBSIDY, "--as-of", "2025-06-01"])
    assert got.exit_code == 0, got.output
    assert "condition: some employment workshop (帮扶车间): (entity_kind = workshop and ay_workshop_workers ≥ 1)" \
        in got.output
    assert "employment workshop 0 竹编车间: no" in got.output and "some business" not in got.output
    x = evaluator_for(kb).explain(kb.models.household.model_validate(
        {"id": "h", "jurisdiction": "anyuan", "entities": [{"id": "w", ENTITY_KIND: "workshop",
                                                            "ay_workshop_workers": 0}]}), SUBSIDY, AS_OF)
    (test,) = x.member_tests
    assert (test.of, test.kind_zh, test.kind_en) == ("entities", "帮扶车间", "employment workshop")
    bundled = CliRunner().invoke(main, ["explain", "examples/dingnan-incubator-business.yaml",
                                        "dn.4.3.incubation_subsidy"])
    assert "some business: (in_incubator = true" in bundled.output  # an entity of no declared kind (wording.yaml)


def test_the_why_not_page_names_the_workshop_in_the_vocabulary_s_words(kb, tmp_path):
    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore, default_url
    from houfu.web.app import create_app

    store = RecordStore(default_url(tmp_path / "data"))
    try:
        with TestClient(create_app(kb, evaluator_for(kb), store, dev=True, secret="kinds"),
                        base_url="https://testserver") as c:
            r = c.post("/v1/check?as_of=2025-06-01", json={"id": "h", "jurisdiction": "anyuan", "entities": [
                {"id": "w", "name": "竹编车间", ENTITY_KIND: "workshop", "ay_workshop_workers": 0}]})
            assert r.status_code == 200, r.text
            rid = r.json()["record_id"]
            zh, en = (c.get(f"/records/{rid}/why/{SUBSIDY}?lang={lang}") for lang in ("zh", "en"))
    finally:
        store.close()
    assert zh.status_code == en.status_code == 200
    assert "<th>帮扶车间</th>" in zh.text and "<td>竹编车间</td>" in zh.text and "家人" not in zh.text
    assert "<th>employment workshop</th>" in en.text and "some employment workshop (帮扶车间)" in en.text
    assert "some business" not in zh.text + en.text
