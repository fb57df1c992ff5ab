"""The caseload report a supervisor reads: totals, lists and charts, as HTML, Markdown or XLSX.

Charts are drawn with matplotlib in a CJK font (Noto Sans CJK, from Debian's fonts-noto-cjk) so the Chinese
labels read correctly; HTML embeds them, Markdown writes them beside the file. Wording is in the template
(templates/screen_report.md.j2), not here.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from houfu.kb.loader import KB

from .screen import ScreenTotals

__all__ = ["write_report", "report_context"]

TOP = 15


@dataclass
class Chart:
    name: str
    title: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _cjk_font() -> str | None:
    """The family name of an installed CJK font, registered with matplotlib."""
    from matplotlib import font_manager

    fonts = [f for f in font_manager.findSystemFonts() if "notosanscjk" in f.lower().replace("-", "")]
    # The regular weight: matplotlib registers a .ttc's first face, and a bold file would make every label bold.
    fonts.sort(key=lambda f: ("regular" not in f.lower(), f))
    if not fonts:
        return None
    font_manager.fontManager.addfont(fonts[0])
    return str(font_manager.FontProperties(fname=fonts[0]).get_name())


def _bar(title: str, labels: list[str], values: list[float], name: str, font: str | None,
         stacked: dict[str, list[float]] | None = None) -> Chart:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if font:
        plt.rcParams["font.family"] = [font, "DejaVu Sans"]
    fig, ax = plt.subplots(figsize=(8, max(2.2, 0.32 * len(labels) + 1)), dpi=110)
    y = list(range(len(labels)))
    if stacked:
        left = [0.0] * len(labels)
        colors = {"applies": "#2e7d32", "satisfied": "#81c784", "undetermined": "#f9a825",
                  "does_not_apply": "#bdbdbd", "out_of_scope": "#e0e0e0", "met": "#1565c0", "violated": "#c62828",
                  "not_due": "#90caf9"}
        for status, vals in stacked.items():
            ax.barh(y, vals, left=left, label=status, color=colors.get(status))
            left = [a + b for a, b in zip(left, vals, strict=True)]
        ax.legend(fontsize=7, loc="lower right")
    else:
        ax.barh(y, values, color="#3b6ea5")
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:,.0f}", va="center", fontsize=7)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return Chart(name, title, buf.getvalue())


def report_context(kb: KB, t: ScreenTotals, lang: str = "zh") -> dict[str, Any]:
    """Everything the report template shows, as plain data (the XLSX sheets use the same)."""
    zh = lang == "zh"
    measures = sorted(t.status_counts, key=lambda mid: -t.status_counts[mid].get("applies", 0))
    rows_measures = [{"id": mid, "text": (kb.measures[mid].zh if zh else kb.measures[mid].en),
                      "clause": kb.clauses[kb.measure_clause[mid]].number, **dict(t.status_counts[mid])}
                     for mid in measures]
    missing = [{"fact": f, "question": getattr(kb.fact_labels[f], lang) if f in kb.fact_labels else f,
                "settles": n, "held_by": t.missing_owner[f].most_common(1)[0][0] if t.missing_owner[f] else "—"}
               for f, n in t.missing.most_common(TOP)]
    q = (t.as_of.month - 1) // 3 + 1
    return {
        "as_of": t.as_of.isoformat(), "quarter": f"{t.as_of.year}-Q{q}", "kb_version": t.kb_version,
        "rows_in": t.rows_in, "screened": t.screened, "rejected": t.rejected, "people": t.people,
        "seconds": round(t.seconds, 2), "rate": int(t.screened / t.seconds) if t.seconds else 0,
        "by_site": t.by_site.most_common(), "by_category": t.by_category.most_common(),
        "measures": rows_measures, "zero_employment": t.zero_employment,
        "zero_employment_count": t.zero_employment_count,
        "training": t.training, "training_count": t.training_count, "training_total": t.training_total,
        "subsidies": t.subsidies, "subsidy_count": t.subsidy_count, "subsidy_total": t.subsidy_total,
        "missing": missing, "workload": t.workload.most_common(),
        "site_issues": t.site_issues[:200], "errors": [str(e) for e in t.errors[:50]], "error_count": len(t.errors),
        "lists": {item.id: getattr(item, lang) for item in kb.columns.lists},
    }


def charts(kb: KB, t: ScreenTotals, lang: str = "zh") -> list[Chart]:
    zh = lang == "zh"
    font = _cjk_font()
    out = []
    if t.by_site:
        sites = t.by_site.most_common(TOP)
        out.append(_bar("按安置点的户数" if zh else "Households by site", [s for s, _ in sites],
                        [float(v) for _, v in sites], "sites", font))
    measures = sorted(t.status_counts, key=lambda mid: -t.status_counts[mid].get("applies", 0))[:TOP]
    if measures:
        statuses = ["applies", "satisfied", "met", "violated", "not_due", "undetermined", "does_not_apply",
                    "out_of_scope"]
        present = [s for s in statuses if any(t.status_counts[m].get(s) for m in measures)]
        out.append(_bar("各项措施的判定结果" if zh else "Measures by status",
                        [f"{kb.clauses[kb.measure_clause[m]].number} {m.split('.')[-1]}" for m in measures], [],
                        "measures", font, {s: [float(t.status_counts[m].get(s, 0)) for m in measures] for s in present}))
    if t.missing:
        top = t.missing.most_common(TOP)
        out.append(_bar("最需要补充的信息(能确定的判定数)" if zh else "Missing facts, by determinations they settle",
                        [getattr(kb.fact_labels[f], lang) if f in kb.fact_labels else f for f, _ in top],
                        [float(v) for _, v in top], "missing", font))
    if t.workload:
        top = t.workload.most_common(TOP)
        out.append(_bar("各部门需要服务的户数" if zh else "Households each department owes something",
                        [b for b, _ in top], [float(v) for _, v in top], "workload", font))
    return out


def write_report(kb: KB, t: ScreenTotals, path: Path, lang: str = "zh") -> None:
    """The report as .html (charts embedded), .md (charts beside it) or .xlsx (one sheet per table)."""
    kind = path.suffix.lower()
    ctx = report_context(kb, t, lang)
    if kind == ".xlsx":
        _xlsx(ctx, path)
        return
    import jinja2

    pics = charts(kb, t, lang)
    if kind == ".md":
        for c in pics:
            (path.parent / f"{path.stem}-{c.name}.png").write_bytes(c.png)
    env = jinja2.Environment(loader=jinja2.PackageLoader("houfu.templates", "."), undefined=jinja2.StrictUndefined,
                             autoescape=kind == ".html", trim_blocks=True, lstrip_blocks=True)
    text = env.get_template("screen_report.j2").render(
        ctx=ctx, lang=lang, fmt=kind.lstrip("."),
        charts=[{"title": c.title, "src": c.data_uri if kind == ".html" else f"{path.stem}-{c.name}.png"}
                for c in pics])
    path.write_text(text, encoding="utf-8")


def _xlsx(ctx: dict[str, Any], path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    summary = book.create_sheet("summary")
    for key in ("as_of", "rows_in", "screened", "rejected", "people", "kb_version"):
        summary.append([key, ctx[key]])
    sheets = {"by_site": (["site", "households"], ctx["by_site"]),
              "measures": (["measure", "clause", "applies", "satisfied", "undetermined", "does_not_apply",
                            "out_of_scope", "met", "violated", "not_due"],
                           [[m["id"], m["clause"], *(m.get(s, 0) for s in ("applies", "satisfied", "undetermined",
                                                                            "does_not_apply", "out_of_scope", "met",
                                                                            "violated", "not_due"))]
                            for m in ctx["measures"]]),
              "zero_employment": (["household", "name", "site"], ctx["zero_employment"]),
              "training": (["household", "member", "shortfall"], ctx["training"]),
              "subsidies": (["household", "business", "yuan"], ctx["subsidies"]),
              "missing": (["fact", "question", "settles", "held_by"],
                          [[m["fact"], m["question"], m["settles"], m["held_by"]] for m in ctx["missing"]]),
              "workload": (["department", "households"], ctx["workload"]),
              "errors": (["error"], [[e] for e in ctx["errors"]])}
    for name, (header, rows) in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(header)
        for r in rows:
            sheet.append(list(r))
    book.save(path)
