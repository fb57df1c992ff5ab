"""Every bundled household letter prints on one A4 page, in zh and in en (issue 10).

The letter is printed to PDF by headless Chromium (Debian's ``chromium`` with ``fonts-noto-cjk``, which
``make test`` installs; the ``chromium`` fixture is in tests/conftest.py) and its pages counted with pypdf. Never more than two is the issue's hard
limit; the bundled examples must fit on one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pypdf
import pytest
import yaml
from click.testing import CliRunner

from houfu.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent
# The bundled households: the examples that are one household's record (not a site, a batch or a county's
# clocks file), told by their content.
HOUSEHOLDS = sorted(p for p in (ROOT / "examples").glob("*.yaml")
                    if isinstance(d := yaml.safe_load(p.read_text(encoding="utf-8")), dict) and "members" in d)


def print_pages(chromium: str, html: Path, pdf: Path) -> int:
    """Print ``html`` to ``pdf`` in headless Chromium and count its pages."""
    # No background networking: this machine's network is closed, and Chromium would keep trying.
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={pdf.parent / 'chromium-profile'}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", html.as_uri()], check=True, capture_output=True, timeout=120)
    return len(pypdf.PdfReader(str(pdf)).pages)


def test_the_bundled_households_include_each_kind_the_letters_are_checked_on():
    names = {p.stem for p in HOUSEHOLDS}
    assert {"dingnan-elderly-couple", "dingnan-school-family", "dingnan-incubator-business",
            "dingnan-town-household", "walk-in"} <= names


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("example", HOUSEHOLDS, ids=lambda p: p.stem)
def test_household_letter_prints_on_one_a4_page(chromium, tmp_path, example, lang):
    html = tmp_path / f"{example.stem}-{lang}.html"
    result = CliRunner().invoke(main, ["brief", "household", str(example), "--lang", lang, "--format", "html",
                                       "-o", str(html), "--as-of", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert print_pages(chromium, html, tmp_path / f"{example.stem}-{lang}.pdf") == 1


def test_a_letter_too_long_for_one_page_is_counted_as_more(chromium, tmp_path):
    # The counter itself can fail: a page of 200 paragraphs is more than one page.
    html = tmp_path / "long.html"
    html.write_text("<html><body>" + "<p>第一段</p>" * 200 + "</body></html>", encoding="utf-8")
    assert print_pages(chromium, html, tmp_path / "long.pdf") > 1
