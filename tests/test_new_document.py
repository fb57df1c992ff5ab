"""A new document keeps the suite green (issue 26, item 7).

Two plans of one county get clause prefixes of their own; a clash of ids or of facts between two documents is
one validate error naming both; no `TODO` placeholder passes `kb validate` once the todo list and the draft
flags are cleared; the bundled documents' tests name their bodies by id, so a second county's 县人社局 breaks
none of them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from houfu.authoring.scaffold import default_prefix
from houfu.cli.commands import main
from houfu.kb.loader import KBError, load
from houfu.kb.validate import validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ingest" / "xinfeng-2024"

YAOAN = """姚安县易地扶贫搬迁后续扶持工作方案
一、主要措施
(一)稳定就业。每年开展不少于2次招聘会。(县人社局牵头负责)
(二)社区治理。每月走访搬迁户。
"""


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.mark.parametrize("doc_id,taken,prefix", [
    ("yaoan-2021", {}, "ya21"), ("yaoan-2024", {"ya21": "yaoan-2021"}, "ya24"),
    ("yaoan-2021", {"ya21": "yaoan-2021-old"}, "yao21"), ("xinfeng-2024", {}, "xi24"), ("plan", {}, "pl"), ("x-2024", {}, "x24"),
])
def test_the_clause_prefix_comes_from_the_id_and_its_year_and_is_never_another_documents(doc_id, taken, prefix):
    assert default_prefix(doc_id, taken) == prefix


def test_two_plans_of_one_county_draft_side_by_side_and_fail_only_on_their_todos(policies, tmp_path):
    page = tmp_path / "yaoan.txt"
    page.write_text(YAOAN, encoding="utf-8")
    for doc_id in ("yaoan-2021", "yaoan-2024"):
        got = CliRunner().invoke(main, ["--policies", str(policies), "kb", "scaffold", str(page), "--id", doc_id,
                                        "--jurisdiction", "dingnan", "--json"])
        assert got.exit_code == 0, got.output
    kb = load(policies)  # no `duplicate id 'ya.p0'`
    assert {c.split(".")[0] for c in kb.clause_doc} >= {"ya21", "ya24", "dn", "sy"}
    errors = [e for e in validate(kb) if "yaoan-" in str(e.file)]
    assert errors and all(e.message.startswith("TODO") for e in errors), errors[:3]


def test_a_prefix_another_document_uses_is_refused_in_one_line(policies, tmp_path):
    page = tmp_path / "yaoan.txt"
    page.write_text(YAOAN, encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(policies), "kb", "scaffold", str(page), "--id", "yaoan-2021",
                                    "--prefix", "dn"])
    assert got.exit_code == 2 and "dingnan-2023" in got.output and len(got.output.strip().splitlines()) == 1
    assert not (policies / "yaoan-2021").exists()


def test_two_documents_sharing_clause_ids_is_one_error_naming_both(policies):
    twin = policies / "dingnan-2099"
    shutil.copytree(policies / "dingnan-2023", twin)
    doc = twin / "document.yaml"
    doc.write_text(doc.read_text(encoding="utf-8").replace("id: dingnan-2023", "id: dingnan-2099", 1), "utf-8")
    with pytest.raises(KBError) as exc:
        load(policies)
    text = str(exc.value)
    assert "dingnan-2023/clauses.yaml" in text and "dingnan-2099" in text and "clause prefix" in text


def test_a_fact_two_documents_declare_is_one_error_naming_both(policies):
    for doc_id in ("dingnan-2023", "shiyan-2019"):
        shutil.copy(EXAMPLE / "vocabulary.yaml", policies / doc_id / "vocabulary.yaml")
    with pytest.raises(KBError) as exc:
        load(policies)
    assert "document dingnan-2023" in exc.value.message and "shiyan-2019" in str(exc.value.file)
    assert "rename it here" in exc.value.message


def _cleared(folder: Path) -> None:
    """What a clerk who only cleared the todo list and the draft flags leaves behind."""
    for name in ("document.yaml", "clauses.yaml"):
        path = folder / name
        text = re.sub(r"\n\s*draft: true", "", path.read_text(encoding="utf-8"))
        data = yaml.safe_load(text)
        if name == "document.yaml":
            data["todo"] = []
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_no_todo_placeholder_passes_validation(policies, tmp_path):
    page = tmp_path / "yaoan.txt"
    page.write_text(YAOAN, encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(policies), "kb", "scaffold", str(page), "--id", "yaoan-2021",
                                    "--jurisdiction", "dingnan", "--json"])
    assert got.exit_code == 0, got.output
    assert json.loads(got.output)["todo"]
    _cleared(policies / "yaoan-2021")
    errors = [e for e in validate(load(policies)) if "yaoan-2021" in str(e.file)]
    keys = {(Path(e.file).name, e.key) for e in errors if "placeholder" in e.message}
    assert ("document.yaml", "title_en") in keys and ("document.yaml", "issuer_en") in keys
    assert any(k.endswith(".en") for _, k in keys)  # the measures' English glosses
    assert ("bodies.proposed.yaml", "bodies") not in keys  # the bodies were all known in Dingnan
    # The bundled documents hold none.
    assert not [e for e in validate(load(policies)) if "placeholder" in e.message and "yaoan" not in str(e.file)]
