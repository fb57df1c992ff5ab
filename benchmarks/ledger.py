"""A county's ledger as counties keep it, for tests and benchmarks: an XLSX workbook and its GBK CSV twin.

    python benchmarks/ledger.py 2000 out/ledger     # ledger.xlsx, households.csv and members.csv (GBK)

The workbook has a merged title row and a filing row (填报单位, 填报日期) above the header; a households sheet
and a members sheet whose header is two rows with merged cells; a notes sheet; 户编号 merged down a household's
member rows; no county column, only site names (sites.yaml's name, an alias, and a near miss that is not
taken); ID numbers (身份证号), some stored by Excel as figures; birth dates as Excel dates, 1966-05-08 and
1966年5月8日, and no age or sex column (the ID numbers give the sex); the monitoring system's labels (劳动技能,
务工状态, √ and ×); columns houfu ignores on purpose and one it does not know; blank rows, totals rows (合计,
小计) and a signature row. The CSV twin holds the same records in GBK, as Excel on Chinese Windows saves them
(dates as 1966/5/8, a figure as 3.60728E+17).

``Ledger.expect`` says, from how the ledger was built and not from houfu, which households must be rejected
and why, and which rows are skipped.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: GB 11643-1999 check character
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"

SITE = "定南县县城集中安置点"
ALIAS = "县城安置点"  # an alias in sites.yaml
NEAR = "定南县城安置点"  # close to the site's name, and not it: reported, never taken

HOUSEHOLD_HEADERS = ["序号", "户编号", "户主姓名", "安置点名称", "户类型", "户口是否在安置地", "已参加医保", "享受低保",
                     "迁出地有承包地", "联系电话", "帮扶责任人", "备注"]
# The members sheet: a header of two rows; (upper, lower) per column, None where a cell is merged down.
MEMBER_HEADERS = [("序号", None), ("户编号", None), ("姓名", None), ("与户主关系", None), ("身份信息", "身份证号"),
                  ("身份信息", "出生日期"), ("就业情况", "劳动技能"), ("就业情况", "务工状态"), ("就业情况", "是否就业"),
                  ("就业情况", "就业意愿"), ("健康状况", None)]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "德明建华桂兰秀英海涛小红文军志强丽娟春梅国庆玉兰永福金凤家豪子涵思雨梓轩雅婷浩然欣怡"


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_number(born: dt.date, seq: int, male: bool) -> str:
    seq3 = seq % 500 * 2 + (1 if male else 0)  # the 17th digit is odd for a man
    first17 = f"360728{born:%Y%m%d}{seq3:03d}"
    return first17 + check_digit(first17)


@dataclass
class Member:
    household: str
    name: str
    relation: str
    id_number: str
    as_figure: bool  # stored by Excel as a figure, its last digits lost
    born: dt.date
    birth_form: str  # excel | iso | chinese
    skill: str  # the monitoring system's 劳动技能
    work: str | None  # 务工状态
    employed: str | None  # 是否就业: 是, 否, √, ×
    wants: str | None
    health: str


@dataclass
class Household:
    id: str
    head: str
    site: str
    category: str
    hukou: str
    insured: str
    dibao: str
    land: str
    phone: str
    members: list[Member] = field(default_factory=list)


@dataclass
class Ledger:
    households: list[Household]
    #: how the ledger was built: rows to skip in each sheet, and the households to reject with why
    expect: dict[str, Any] = field(default_factory=dict)


def build(n: int, seed: int = 20) -> Ledger:
    rng = random.Random(seed)
    households: list[Household] = []
    rejected: dict[str, str] = {}
    seq = 0
    for i in range(n):
        hid = f"DN{2024_0000 + i}"
        site = SITE if i % 10 < 7 else ALIAS
        if i % 25 == 13:
            site = NEAR
            rejected[hid] = "unknown_site"
        h = Household(hid, "", site, rng.choice(["脱贫户", "脱贫户", "同步搬迁户", "脱贫不稳定户"]),
                      rng.choice(["是", "否", "√", ""]), rng.choice(["是", "是", "否", "×"]), rng.choice(["是", "否", "否"]),
                      rng.choice(["有", "无", "是"]), f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}")
        size = rng.choice([1, 2, 3, 3, 4, 4, 5, 6])
        for k in range(size):
            seq += 1
            if k == 0:
                born = dt.date(rng.randint(1950, 1990), rng.randint(1, 12), rng.randint(1, 28))
                relation = "户主"
            elif k == 1:
                born = dt.date(rng.randint(1955, 1995), rng.randint(1, 12), rng.randint(1, 28))
                relation = "配偶"
            else:
                born = dt.date(rng.randint(2000, 2022), rng.randint(1, 12), rng.randint(1, 28))
                relation = rng.choice(["之子", "之女", "之孙子"])
            male = (k == 0) if size > 1 else rng.random() < 0.5
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            if k == 0:
                h.head = name
            number = id_number(born, seq, male)
            as_figure = i % 40 == 7 and k == size - 1 and number[-1] != "X"  # with an X, Excel keeps it text
            if as_figure:
                rejected.setdefault(hid, "id_float")
            age = 2025 - born.year
            working = 16 <= age < 60
            skill = (rng.choice(["普通劳动力", "普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力"]) if working
                     else "无劳动力")
            work = (rng.choice(["省外务工", "县外省内务工", "县内企业务工", "公益岗位", "未务工", "县内务工", "就业帮扶车间"])
                    if working and skill != "丧失劳动力" else "未务工")
            employed = ("×" if work == "未务工" else rng.choice(["是", "√"])) if working else rng.choice(["否", "×"])
            wants = rng.choice(["县内", "县外", "不想"]) if working else "不想"
            h.members.append(Member(hid, name, relation, number, as_figure, born,
                                    ["excel", "iso", "chinese"][seq % 3], skill, work, employed, wants,
                                    rng.choice(["健康", "健康", "长期慢性病"])))
        if i % 50 == 29:  # a check digit mistyped
            m = h.members[0]
            wrong = "0" if m.id_number[-1] != "0" else "1"
            m.id_number = m.id_number[:-1] + wrong
            rejected.setdefault(hid, "id_number_check")
        households.append(h)
    people = sum(len(h.members) for h in households if h.id not in rejected)
    return Ledger(households, {"rejected": rejected, "screened": n - len(rejected), "people": people})


# --- the workbook --------------------------------------------------------------------------------------------------

def write_xlsx(ledger: Ledger, path: Path) -> dict[str, Any]:
    """The workbook as a county keeps it; returns the rows each sheet skips (blank, totals, signature)."""
    import openpyxl
    from openpyxl.styles import Alignment

    book = openpyxl.Workbook()
    hh = book.active
    hh.title = "户信息"
    width = len(HOUSEHOLD_HEADERS)
    hh.append(["定南县易地扶贫搬迁户信息台账"])
    hh.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    hh["A1"].alignment = Alignment(horizontal="center")
    hh.append(["填报单位:定南县乡村振兴局"] + [None] * 6 + ["填报日期:2025年6月30日"])
    hh.append(HOUSEHOLD_HEADERS)
    skipped: dict[str, dict[str, list[int]]] = {"户信息": {"blank": [], "totals": [], "signature": []},
                                                "家庭成员": {"blank": [], "totals": [], "signature": []}}
    for i, h in enumerate(ledger.households):
        hh.append([i + 1, h.id, h.head, h.site, h.category, h.hukou or None, h.insured, h.dibao, h.land, h.phone,
                   "李干部", None])
        if i % 97 == 50:
            hh.append([None] * width)  # a blank row (a styled empty row, as Excel leaves one)
            skipped["户信息"]["blank"].append(hh.max_row)
            hh.cell(row=hh.max_row, column=2).number_format = "@"
    hh.append(["合计", f"{len(ledger.households)}户"])
    skipped["户信息"]["totals"].append(hh.max_row)
    hh.append([])  # an empty row before the signature (no cell: openpyxl's max_row does not count it)
    skipped["户信息"]["blank"].append(skipped["户信息"]["totals"][-1] + 1)
    hh.append(["填表人:张三", None, None, None, "审核人:李四"])
    skipped["户信息"]["signature"].append(hh.max_row)

    mem = book.create_sheet("家庭成员")
    cols = len(MEMBER_HEADERS)
    mem.append(["家庭成员信息表"])
    mem.merge_cells(start_row=1, start_column=1, end_row=1, end_column=cols)
    mem.append([top for top, _ in MEMBER_HEADERS])
    mem.append([bottom for _, bottom in MEMBER_HEADERS])
    # The two-row header's merges: a single header down both rows, a group heading across its columns.
    for c, (_, bottom) in enumerate(MEMBER_HEADERS, start=1):
        if bottom is None:
            mem.merge_cells(start_row=2, start_column=c, end_row=3, end_column=c)
    for group in ("身份信息", "就业情况"):
        at = [c for c, (top, bottom) in enumerate(MEMBER_HEADERS, start=1) if top == group]
        mem.merge_cells(start_row=2, start_column=at[0], end_row=2, end_column=at[-1])
    number = 0
    for i, h in enumerate(ledger.households):
        first = mem.max_row + 1
        for m in h.members:
            number += 1
            born: Any = {"excel": dt.datetime(m.born.year, m.born.month, m.born.day), "iso": m.born.isoformat(),
                         "chinese": f"{m.born.year}年{m.born.month}月{m.born.day}日"}[m.birth_form]
            ident: Any = float(m.id_number) if m.as_figure else m.id_number
            mem.append([number, h.id, m.name, m.relation, ident, born, m.skill, m.work, m.employed, m.wants,
                        m.health])
            if m.birth_form == "excel":
                mem.cell(row=mem.max_row, column=6).number_format = "yyyy-mm-dd"
        if len(h.members) > 1 and i % 3 == 0:
            # 户编号 merged down the household's rows, as a ledger kept by hand often has it
            mem.merge_cells(start_row=first, start_column=2, end_row=mem.max_row, end_column=2)
        if i % 120 == 60:
            mem.append([None] * cols)
            skipped["家庭成员"]["blank"].append(mem.max_row)
            mem.append([None, "小计", None, None, None, None, None, None, None, None, None])
            skipped["家庭成员"]["totals"].append(mem.max_row)
    mem.append(["合计", None, f"{number}人"])
    skipped["家庭成员"]["totals"].append(mem.max_row)
    notes = book.create_sheet("填表说明")
    notes.append(["1. 户编号与防返贫监测信息系统一致。"])
    notes.append(["2. 身份证号请设置为文本格式。"])
    book.save(path)
    return skipped


# --- the GBK CSV twin ----------------------------------------------------------------------------------------------

def write_csv(ledger: Ledger, folder: Path) -> dict[str, Any]:
    """households.csv and members.csv in GBK, as Excel saves a sheet: a title line, dates as 1966/5/8, a figure
    as 3.60728E+17; returns the lines each file skips."""
    import csv
    import io

    folder.mkdir(parents=True, exist_ok=True)
    skipped: dict[str, dict[str, list[int]]] = {"households.csv": {"blank": [], "totals": [], "signature": []},
                                                "members.csv": {"blank": [], "totals": [], "signature": []}}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["定南县易地扶贫搬迁户信息台账"] + [""] * (len(HOUSEHOLD_HEADERS) - 1))
    w.writerow(HOUSEHOLD_HEADERS)
    line = 2
    for i, h in enumerate(ledger.households):
        w.writerow([i + 1, h.id, h.head, h.site, h.category, h.hukou, h.insured, h.dibao, h.land, h.phone, "李干部", ""])
        line += 1
        if i % 97 == 50:
            w.writerow([""] * len(HOUSEHOLD_HEADERS))
            line += 1
            skipped["households.csv"]["blank"].append(line)
    w.writerow(["合计", f"{len(ledger.households)}户"] + [""] * (len(HOUSEHOLD_HEADERS) - 2))
    line += 1
    skipped["households.csv"]["totals"].append(line)
    (folder / "households.csv").write_bytes(buf.getvalue().encode("gbk"))

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    names = [bottom or top for top, bottom in MEMBER_HEADERS]
    w.writerow(names)
    line = 1
    number = 0
    for i, h in enumerate(ledger.households):
        for m in h.members:
            number += 1
            ident = f"{float(m.id_number):.5E}".replace("E+", "E+") if m.as_figure else m.id_number
            born = (f"{m.born.year}/{m.born.month}/{m.born.day}" if m.birth_form == "excel" else m.born.isoformat()
                    if m.birth_form == "iso" else f"{m.born.year}年{m.born.month}月{m.born.day}日")
            w.writerow([number, h.id, m.name, m.relation, ident, born, m.skill, m.work, m.employed, m.wants, m.health])
            line += 1
        if i % 120 == 60:
            w.writerow([""] * len(names))
            line += 1
            skipped["members.csv"]["blank"].append(line)
    w.writerow(["合计", "", f"{number}人"] + [""] * (len(names) - 3))
    line += 1
    skipped["members.csv"]["totals"].append(line)
    (folder / "members.csv").write_bytes(buf.getvalue().encode("gbk"))
    return skipped


def main() -> None:
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("out/ledger")
    folder.mkdir(parents=True, exist_ok=True)
    ledger = build(n)
    write_xlsx(ledger, folder / "ledger.xlsx")
    write_csv(ledger, folder / "csv")
    print(f"{n} households, {sum(len(h.members) for h in ledger.households)} members: {folder}/ledger.xlsx and "
          f"{folder}/csv/ (GBK); {len(ledger.expect['rejected'])} to be rejected, each for a reason the builder knows")


if __name__ == "__main__":
    main()
