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
from tests.new_documents import policy_copy_with_new_documents
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
    assert list(kb.models.records) == ["workshop"] and kb.models.records["workshop"].zh == "帮扶车间"
    assert dict(kb.models.kind_of) == {"ay_workshop_workers": "workshop", "ay_workshop_months": "workshop"}
    assert kb.fact_labels[ENTITY_KIND].labels == {"business": "经营实体", "workshop": "帮扶车间"}
    assert {ENTITY_KIND, "ay_workshop_workers"} <= set(kb.models.entity.model_fields)
    bundled = load(None)  # the installed folder declares no kind: its models are as they were
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


def test_a_kind_declared_twice_names_the_first_file(folder, tmp_path):
    copy = tmp_path / "policies"
    shutil.copytree(folder, copy)
    (copy / "xinfeng-2024" / "vocabulary.yaml").write_text(
        (copy / "xinfeng-2024" / "vocabulary.yaml").read_text(encoding="utf-8")
        + "records:\n- {id: workshop, zh: 车间, en: workshop}\n", encoding="utf-8")
    with pytest.raises(KBError, match="already declared in .*vocabulary.yaml"):
        load(copy)
