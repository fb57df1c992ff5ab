"""Write the bundled example caseloads (run once; the files are committed):

* examples/caseload.xlsx: one row per member carrying the household's columns, Chinese headers;
* examples/caseload-gbk/households.csv and members.csv: the long form, in GBK as Excel on Chinese Windows
  saves it.

Both hold 200 households from benchmarks/caseload.py and a few bad rows on purpose: an age written in words,
an unknown labour-capacity label, a duplicate household id, a member of no listed household.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.caseload import caseload  # noqa: E402


def main() -> None:
    hh, members, _ = caseload(200, seed=11)
    h_rows = hh.to_pylist()
    m_rows = members.to_pylist()
    # The faults, one each.
    m_rows[3]["年龄"] = "七十"
    m_rows[10]["劳动能力"] = "强"
    h_rows[20]["户编号"] = h_rows[19]["户编号"]
    m_rows.append({**m_rows[0], "户编号": "HH9999", "姓名": "无户成员"})
    out = ROOT / "examples" / "caseload-gbk"
    out.mkdir(exist_ok=True)
    for name, rows in (("households.csv", h_rows), ("members.csv", m_rows)):
        with (out / name).open("w", encoding="gbk", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    import openpyxl

    by_id: dict[str, dict[str, object]] = {}
    for r in h_rows:
        by_id.setdefault(str(r["户编号"]), r)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "搬迁群众"
    header = list(h_rows[0]) + [k for k in m_rows[0] if k != "户编号"]
    sheet.append(header)
    for m in m_rows:
        h = by_id.get(str(m["户编号"]), {"户编号": m["户编号"]})
        sheet.append([h.get(k) if k in h_rows[0] else m.get(k) for k in header])
    book.save(ROOT / "examples" / "caseload.xlsx")


if __name__ == "__main__":
    main()
