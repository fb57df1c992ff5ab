"""A realistic synthetic caseload as Arrow tables: households, members and businesses, both jurisdictions.

Distributions are rough but plausible (household sizes 1-6, ages by a mix of children, working age and
elderly; most yes/no facts known, some missing at realistic rates), generated with numpy so a million
households take seconds. Used by benchmarks/bench_screen.py, the screener's tests and the bundled example.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

SITES = [("定南县", "county_seat_centralized", "定南县县城集中安置点", 3120),
         ("定南县", "town_centralized", "历市镇集镇安置点", 420),
         ("郧阳区", "town_centralized", "青龙泉社区", 15000),
         ("竹山县", "central_village", "宝丰镇中心村安置点", 640),
         ("房县", "scattered", "分散安置", 0)]


def _maybe(rng: np.random.Generator, values: np.ndarray, missing: float) -> list:
    out = values.astype(object)
    out[rng.random(len(values)) < missing] = None
    return out.tolist()


def _yesno(rng: np.random.Generator, n: int, p_true: float, missing: float) -> list:
    return _maybe(rng, np.where(rng.random(n) < p_true, "是", "否"), missing)


def caseload(n: int, seed: int = 7, chinese: bool = True) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(households, members, businesses) with Chinese headers and labels (or English field names and codes)."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("HH", np.arange(n).astype(str))
    site = rng.choice(len(SITES), size=n, p=[0.35, 0.1, 0.35, 0.1, 0.1])
    size = rng.choice([1, 2, 3, 4, 5, 6], size=n, p=[0.08, 0.22, 0.25, 0.25, 0.14, 0.06])
    category = np.where(rng.random(n) < 0.8, "脱贫户", "同步搬迁户")
    hh = {
        "户编号": ids.tolist(),
        "所在县": [SITES[s][0] for s in site],
        "安置点": [SITES[s][2] for s in site],
        "安置方式": _maybe(rng, np.array(["县城集中安置", "集镇集中安置", "集镇集中安置", "中心村安置", "分散安置"])[site], 0.02),
        "安置点人数": _maybe(rng, np.array([s[3] for s in SITES])[site], 0.05),
        "户类型": _maybe(rng, category, 0.01),
        "户口是否在安置地": _yesno(rng, n, 0.4, 0.05),
        "是否愿意迁户口": _yesno(rng, n, 0.3, 0.2),
        "迁出地有承包地": _yesno(rng, n, 0.9, 0.1),
        "符合医保参保条件": _yesno(rng, n, 0.95, 0.1),
        "已参加医保": _yesno(rng, n, 0.95, 0.05),
        "符合养老保险参保条件": _yesno(rng, n, 0.7, 0.2),
        "已参加养老保险": _yesno(rng, n, 0.7, 0.1),
        "享受低保": _yesno(rng, n, 0.15, 0.05),
        "符合低保条件": _yesno(rng, n, 0.2, 0.3),
        "突发困难": _yesno(rng, n, 0.03, 0.1),
        "已办不动产权证": _yesno(rng, n, 0.6, 0.2),
        "特殊安置方式": _yesno(rng, n, 0.05, 0.3),
        "安置点有扶贫车间": _yesno(rng, n, 0.5, 0.2),
    }
    owner = np.repeat(np.arange(n), size)
    m = len(owner)
    kind = rng.choice(3, size=m, p=[0.25, 0.55, 0.2])  # child, working age, elderly
    age = np.where(kind == 0, rng.integers(0, 16, m), np.where(kind == 1, rng.integers(16, 60, m),
                                                                 rng.integers(60, 90, m)))
    able = kind == 1
    labor = np.where(~able, "没有", np.where(rng.random(m) < 0.8, "完全", "部分"))
    employed = np.where(able & (rng.random(m) < 0.6), "是", "否")
    wants = np.where(~able, "不想", rng.choice(["县内", "县外", "不想"], size=m, p=[0.5, 0.3, 0.2]))
    stage = np.where(age < 6, "学前", np.where(age < 12, "小学", np.where(age < 15, "初中", np.where(age < 19, "高中", "未上学"))))
    names = np.char.add("成员", (np.arange(m) % 997).astype(str))
    members = {
        "户编号": ids[owner].tolist(),
        "姓名": names.tolist(),
        "年龄": _maybe(rng, age, 0.02),
        "性别": np.where(rng.random(m) < 0.5, "女", "男").tolist(),
        "劳动能力": _maybe(rng, labor, 0.05),
        "是否就业": _maybe(rng, np.where(able, employed, "否"), 0.05),
        "就业意愿": _maybe(rng, wants, 0.1),
        "培训意愿": _maybe(rng, np.where(able & (rng.random(m) < 0.3), "是", "否"), 0.2),
        "今年培训次数": _maybe(rng, np.where(able, rng.integers(0, 3, m), 0), 0.15),
        "在校情况": _maybe(rng, stage, 0.1),
        "是否残疾": _yesno(rng, m, 0.06, 0.05),
        "患重大疾病": _yesno(rng, m, 0.04, 0.1),
        "留守": _yesno(rng, m, 0.05, 0.2),
        "空巢老人": _maybe(rng, np.where((kind == 2) & (rng.random(m) < 0.2), "是", "否"), 0.2),
        "事实无人抚养儿童": _maybe(rng, np.where(kind == 0, "否", "否"), 0.3),
        "创业意愿": _maybe(rng, np.where(able & (rng.random(m) < 0.05), "是", "否"), 0.2),
        "就业困难人员": _maybe(rng, np.where(able & (rng.random(m) < 0.1), "是", "否"), 0.3),
    }
    # Businesses: about 2% of Dingnan county-seat households run one in the incubator.
    biz = np.flatnonzero((site == 0) & (rng.random(n) < 0.02))
    k = len(biz)
    businesses = {
        "户编号": ids[biz].tolist(),
        "实体编号": np.char.add("ENT", biz.astype(str)).tolist(),
        "实体名称": np.char.add("小店", biz.astype(str)).tolist(),
        "入驻孵化基地": np.where(rng.random(k) < 0.9, "是", "否").tolist(),
        "已补贴月数": rng.integers(0, 40, k).tolist(),
        "月物管费": rng.integers(200, 1200, k).tolist(),
        "月卫生费": _maybe(rng, rng.integers(50, 300, k), 0.05),
        "月房租": rng.integers(1000, 6000, k).tolist(),
    }
    tables = (pa.table(hh), pa.table(members), pa.table(businesses))
    if chinese:
        return tables
    return tuple(_english(t) for t in tables)  # type: ignore[return-value]


def _english(table: pa.Table) -> pa.Table:
    """The same table with English field names (values stay as Chinese labels, which are accepted too)."""
    import houfu

    kb = houfu.load()
    names = {}
    for level in ("household", "member", "entity"):
        for fld, spellings in getattr(kb.columns, level).items():
            for s in spellings:
                names.setdefault(s, fld)
    return table.rename_columns([names.get(c, c) for c in table.column_names])
