"""The scaffold on the shapes county and provincial websites publish (issue 26, item 8).

examples/pages/ holds excerpts in those shapes, each with a key made by hand (its README says what they are and
where their shapes come from).  This test drafts each page as a clerk would, without --jurisdiction, measures
what the draft recovers against the key and prints the recall table (``pytest -s`` shows it): clause numbers,
list bodies with their roles, titles, 文号, issuers, signing dates, levels, numbers, forces, and the fake items
drafted from page furniture (measures and parameters out of metadata tables, share bars, notice lines).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import houfu
from houfu.kb.ingest import analyse, draft_measures

PAGES = Path(__file__).resolve().parent.parent / "examples" / "pages"
KB = houfu.load()
KEYS = sorted(PAGES.glob("*.key.yaml"))
COLUMNS = ["clause numbers", "list bodies and roles", "titles", "文号", "issuers", "signed", "levels", "numbers",
           "forces", "fake measures", "fake parameters"]


def measure(key_path: Path) -> dict[str, tuple[int, int]]:
    key = yaml.safe_load(key_path.read_text(encoding="utf-8"))
    page = (PAGES / key_path.name.replace(".key.yaml", ".txt")).read_text(encoding="utf-8")
    draft = analyse(page, KB, None)
    meta = draft.metadata
    numbers = {c.number for c in draft.outline.clauses}
    out: dict[str, tuple[int, int]] = {}
    out["clause numbers"] = (sum(str(n) in numbers for n in key["clauses"]), len(key["clauses"]))
    got = want = 0
    for number, pairs in (key.get("lists") or {}).items():
        r = draft.responsibilities.get(str(number))
        read = [[b.as_written, b.role] for b in r.bodies] if r else []
        want += len(pairs)
        got += sum(1 for k, p in enumerate(pairs) if k < len(read) and read[k] == p)
    out["list bodies and roles"] = (got, want)
    out["titles"] = (int(meta["title"] == key["title"]), 1)
    out["文号"] = (int(meta["doc_number"] == key["doc_number"]), 1)
    out["issuers"] = (int(meta["issuer"] == key["issuer"]), 1)
    out["signed"] = (int(meta["signed"] == str(key["signed"])), 1)
    out["levels"] = (int(meta.get("level") == key["level"]), 1)
    got = want = 0
    for number, values in (key.get("numbers") or {}).items():
        drafted = [p.value for p in draft.parameters.get(str(number), [])]
        want += len(values)
        got += sum(1 for v in values if float(v) in drafted)
    out["numbers"] = (got, want)
    forces = key.get("forces") or {}
    out["forces"] = (sum(1 for quote, force in forces.items()
                         if [m.force.value for m in draft_measures(quote + "。", None)] == [force]), len(forces))
    furniture = [ln.strip() for ln in key.get("furniture") or []]
    in_furniture = lambda text: any(text in f for f in furniture)  # noqa: E731
    fake_m = sum(1 for ms in draft.measures.values() for m in ms if not m.background and in_furniture(m.quote))
    fake_p = sum(1 for c in draft.outline.clauses for p in draft.parameters.get(c.number, [])
                 if any(p.text in ln and in_furniture(ln) for ln in c.text.splitlines()))
    out["fake measures"], out["fake parameters"] = (fake_m, 0), (fake_p, 0)
    return out


def table(results: dict[str, dict[str, tuple[int, int]]]) -> str:
    total = {c: (sum(r[c][0] for r in results.values()), sum(r[c][1] for r in results.values())) for c in COLUMNS}
    rows = [["", *results, "all"]]
    for c in COLUMNS:
        cell = (lambda g, w: str(g)) if c.startswith("fake") else (lambda g, w: f"{g}/{w}")
        rows.append([c, *(cell(*r[c]) for r in results.values()), cell(*total[c])])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def test_the_scaffolds_recall_on_the_shapes_real_pages_take():
    assert len(KEYS) >= 6
    results = {k.name.replace(".key.yaml", ""): measure(k) for k in KEYS}
    print("\nscaffold recall on examples/pages (hand-made keys):\n" + table(results))
    for name, r in results.items():
        assert r["fake measures"][0] == 0 and r["fake parameters"][0] == 0, (name, r)
    for c in COLUMNS[:-2]:
        got, want = sum(r[c][0] for r in results.values()), sum(r[c][1] for r in results.values())
        assert want and got / want >= 0.9, (c, got, want)


@pytest.mark.parametrize("key_path", KEYS, ids=lambda p: p.name)
def test_each_page_drafts_its_title_文号_and_lists(key_path):
    r = measure(key_path)
    assert r["titles"] == (1, 1) and r["文号"] == (1, 1), r
    assert r["list bodies and roles"][0] == r["list bodies and roles"][1], r
