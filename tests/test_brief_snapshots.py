"""Exact snapshots of every brief type, both languages, all formats, for the bundled examples.

Regenerate on purpose only: HOUFU_UPDATE_SNAPSHOTS=1 pytest tests/test_brief_snapshots.py
"""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from houfu.cli.commands import main

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).parent / "snapshots"
SUBJECTS = {
    "household-dingnan": ["brief", "household", str(ROOT / "examples/dingnan-household.yaml"), "--as-of", "2026-01-01"],
    "household-shiyan": ["brief", "household", str(ROOT / "examples/shiyan-household.yaml"), "--as-of", "2026-01-01"],
    "household-elderly-couple": ["brief", "household", str(ROOT / "examples/dingnan-elderly-couple.yaml"),
                                 "--as-of", "2026-01-01"],
    "household-school-family": ["brief", "household", str(ROOT / "examples/dingnan-school-family.yaml"),
                                "--as-of", "2026-01-01"],
    "household-incubator-business": ["brief", "household", str(ROOT / "examples/dingnan-incubator-business.yaml"),
                                     "--as-of", "2026-01-01"],
    "household-out-of-scope": ["brief", "household", str(ROOT / "examples/dingnan-town-household.yaml"),
                               "--as-of", "2026-01-01"],
    "household-walk-in": ["brief", "household", str(ROOT / "examples/walk-in.yaml"), "--as-of", "2026-01-01"],
    "site-dingnan": ["brief", "site", str(ROOT / "examples/dingnan-site.yaml"), "--as-of", "2026-01-01"],
    "site-shiyan": ["brief", "site", str(ROOT / "examples/shiyan-small-site.yaml"), "--as-of", "2026-01-01"],
    "department-hrss": ["brief", "department", "dn_hrss"],  # by id: another county may have its 县人社局 too
    "compare-training": ["brief", "compare", "--topic", "training", "--document", "dingnan-2023", "--document",
                         "shiyan-2019"],  # the two named: a third document adds its own snapshot
}


@pytest.mark.parametrize("fmt", ["md", "html", "txt"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("subject", list(SUBJECTS))
def test_brief_matches_snapshot(subject, lang, fmt):
    r = CliRunner().invoke(main, SUBJECTS[subject] + ["--lang", lang, "--format", fmt])
    assert r.exit_code == 0, r.output
    path = SNAPSHOTS / f"{subject}.{lang}.{fmt}"
    if os.environ.get("HOUFU_UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(r.output, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with HOUFU_UPDATE_SNAPSHOTS=1 once, on purpose"
    assert r.output == path.read_text(encoding="utf-8")
