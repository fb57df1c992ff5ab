"""The glossary's synonyms in search and `houfu owners`; a measure matched by its own words, not by the
sentence it shares with its neighbours; the handler named as handler (issue 22, §5)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import houfu
from houfu.cli.commands import main
from houfu.kb.loader import KBError, load
from houfu.kb.query import alternatives, search

POLICIES = Path(houfu.__file__).parent / "policies"


def _matches(answer: dict, doc: str) -> list[str]:
    return [m["id"] for m in answer["documents"].get(doc, {}).get("matches", [])]


def test_dibao_finds_the_minimum_living_guarantee_and_not_the_insurances_beside_it() -> None:
    got = houfu.owners("低保")
    dingnan = _matches(got, "dingnan-2023")
    assert "dn.3.3.dibao" in dingnan
    assert "dn.7.1.dibao_apply_at_site" in dingnan  # its text says 最低生活保障, never 低保
    assert "dn.3.3.medical_insurance" not in dingnan and "dn.3.3.pension_insurance" not in dingnan
    shiyan = _matches(got, "shiyan-2019")
    assert shiyan == ["sy.12.dibao"]  # 特困人员救助供养 shares the sentence, not the word


def test_each_word_of_a_group_finds_what_the_others_find() -> None:
    for word in ("最低生活保障", "城乡低保"):
        assert "dn.3.3.dibao" in _matches(houfu.owners(word), "dingnan-2023"), word
    for word in ("医保", "医疗保险", "基本医疗保险"):
        got = houfu.owners(word)
        assert "dn.3.3.medical_insurance" in _matches(got, "dingnan-2023"), word
        assert "sy.12.medical_insurance" in _matches(got, "shiyan-2019"), word
        assert "dn.3.3.pension_insurance" not in _matches(got, "dingnan-2023"), word
    kb = houfu.load()
    assert alternatives(kb, "低保") == ["低保", "最低生活保障", "城乡低保"]
    assert alternatives(kb, "申请低保") == ["申请低保", "申请最低生活保障", "申请城乡低保"]
    assert alternatives(kb, "公益性岗位") == ["公益性岗位"]
    assert {h["id"] for h in search(kb, "最低生活保障") if h["kind"] == "measure"} >= {"dn.3.3.dibao",
                                                                                     "sy.12.dibao"}


def test_the_handler_is_shown_as_handler_with_its_basis() -> None:
    got = houfu.owners("低保")
    dibao = next(m for m in got["documents"]["dingnan-2023"]["matches"] if m["id"] == "dn.3.3.dibao")
    assert dibao["handler"]["name"] == "县民政局" and dibao["handler"]["basis"] == "duty"
    assert "民政部门" in dibao["handler"]["reason"]
    first = got["documents"]["dingnan-2023"]["departments"][0]
    assert first["name"] == "县民政局" and first["roles"]["handler"] == 2
    r = CliRunner().invoke(main, ["owners", "低保"])
    assert r.exit_code == 0
    assert "handler: 县民政局 (houfu's reading by department duty; the text names none:" in r.output
    assert r.output.splitlines()[2].split()[0] == "县民政局" and "handler 2" in r.output.splitlines()[2]
    j = json.loads(CliRunner().invoke(main, ["owners", "医保", "--json"]).output)
    medical = next(m for m in j["documents"]["dingnan-2023"]["matches"] if m["id"] == "dn.3.3.medical_insurance")
    assert medical["handler"]["id"] == "dn_healthcare_security"  # not on the clause's list: houfu's reading


def test_the_api_answers_owners_with_the_handler() -> None:
    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore
    from houfu.web.app import create_app

    store = RecordStore("sqlite://")
    c = TestClient(create_app(houfu.load(), houfu.evaluator(), store, dev=True), base_url="https://testserver")
    got = c.get("/v1/owners", params={"q": "最低生活保障"})
    assert got.status_code == 200, got.text
    matches = got.json()["documents"]["dingnan-2023"]["matches"]
    assert {m["handler"]["name"] for m in matches if "handler" in m} == {"县民政局"}
    store.close()


def test_a_synonym_group_of_one_word_is_refused_naming_it(tmp_path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    path = root / "glossary.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["synonyms"][0]["words"] = ["低保"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(KBError) as err:
        load(root)
    assert "glossary.yaml" in str(err.value) and "synonyms[0].words" in str(err.value)
