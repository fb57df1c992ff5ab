"""No Python word reaches people: None, True and False never appear in text output or in letters.

Every bundled example, in every text form (check, site, explain and each brief in zh/en as md/txt/html),
and a generated batch of households and sites, are scanned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houfu.cli.commands import main
from tests.strategies import households, sites

EX = Path(__file__).resolve().parents[1] / "examples"
PYTHON_WORDS = re.compile(r"\b(None|True|False)\b")


def _context(text: str) -> str:
    m = PYTHON_WORDS.search(text)
    return text[max(0, m.start() - 150):m.end() + 30] if m else ""


def _outputs(path: Path, kind: str) -> list[str]:
    out = []
    command = "check" if kind == "household" else "site"
    out.append(CliRunner().invoke(main, [command, str(path), "-v", "--as-of", "2026-01-05"]).output)
    for lang in ("zh", "en"):
        for fmt in ("md", "txt", "html"):
            out.append(CliRunner().invoke(main, ["brief", kind, str(path), "--lang", lang, "--format", fmt,
                                                 "--as-of", "2026-01-05"]).output)
    return out


def _kind(path: Path) -> str | None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        return None
    return "site" if "population" in data or "-site" in path.name else "household"


def test_no_python_words_in_any_bundled_example() -> None:
    checked = 0
    for path in sorted(EX.glob("*.yaml")):
        kind = _kind(path)
        if kind is None:
            continue
        for text in _outputs(path, kind):
            assert not PYTHON_WORDS.search(text), (path.name, _context(text))
            checked += 1
        report = CliRunner().invoke(main, ["check" if kind == "household" else "site", str(path), "--json"]).output
        for m in [m for m in re.findall(r'"measure_id": "([^"]+)"', report)][:5]:
            text = CliRunner().invoke(main, ["explain", str(path), m]).output
            assert not PYTHON_WORDS.search(text), (path.name, m, _context(text))
    assert checked >= 7 * 7


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(households(), min_size=3, max_size=3), st.lists(sites(), min_size=2, max_size=2))
def test_no_python_words_for_a_generated_batch(tmp_path_factory: Any, hs: list[Any], ss: list[Any]) -> None:
    folder = tmp_path_factory.mktemp("batch")
    for i, record in enumerate(hs):
        path = folder / f"h{i}.yaml"
        path.write_text(yaml.safe_dump(record.model_dump(exclude_none=True), allow_unicode=True), encoding="utf-8")
        text = CliRunner().invoke(main, ["check", str(path), "-v"]).output
        text += CliRunner().invoke(main, ["brief", "household", str(path), "--lang", "en"]).output
        assert not PYTHON_WORDS.search(text), _context(text)
    for i, record in enumerate(ss):
        path = folder / f"s{i}.yaml"
        path.write_text(yaml.safe_dump(record.model_dump(exclude_none=True), allow_unicode=True), encoding="utf-8")
        text = CliRunner().invoke(main, ["site", str(path), "-v"]).output
        text += CliRunner().invoke(main, ["brief", "site", str(path)]).output
        assert not PYTHON_WORDS.search(text), _context(text)
