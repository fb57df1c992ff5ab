"""The caseload report a supervisor reads, as HTML, Markdown or XLSX, and the data-request lists (one XLSX per body).

Everything shown is a ``ScreenSummary`` (houfu/screen/summary.py), the same model the CLI's --json and the API answer with.
Charts are SVG written here (horizontal bars, a few hundred bytes of markup each, no plotting library: matplotlib's
import and font search cost seconds per run, more than screening 200,000 households); their text is text, in a CJK
font family list (Noto Sans CJK first) so the Chinese labels read correctly. HTML embeds them, Markdown writes them
beside the file. Every word of the report, its
charts and its sheets is in the templates (templates/_screen_words.j2, templates/screen_report.j2), by language.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from houfu.io.files import written_whole
from houfu.io.notes import message
from houfu.kb.loader import KB
from houfu.screen.screener import ACTIONS, ScreenTotals
from houfu.screen.summary import ScreenSummary, body_name

__all__ = ["RequestFiles", "report_context", "words", "write_report"]

TOP = 15
#: data requests a body's section of the HTML or Markdown report lists (the XLSX report lists more, and
#: --requests writes them all)
SHOWN = 50
STATUSES = ["applies", "satisfied", "met", "violated", "not_due", "undetermined", "does_not_apply", "out_of_scope"]


@dataclass
class Chart:
    name: str
    title: str
    svg: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")


@cache
def _environment(autoescape: bool) -> Any:
    import jinja2

    from houfu.present.templating import keep_compiled

    return keep_compiled(jinja2.Environment(loader=jinja2.PackageLoader("houfu.templates", "."),
                                            undefined=jinja2.StrictUndefined, autoescape=autoescape,
                                            trim_blocks=True, lstrip_blocks=True))


def words(lang: str) -> dict[str, Any]:
    """The report's words in ``lang`` (templates/_screen_words.j2)."""
    got: dict[str, Any] = getattr(_environment(False).get_template("_screen_words.j2").module, lang)
    return got


COLORS = {"applies": "#2e7d32", "satisfied": "#81c784", "undetermined": "#f9a825", "does_not_apply": "#bdbdbd",
          "out_of_scope": "#e0e0e0", "met": "#1565c0", "violated": "#c62828", "not_due": "#90caf9",
          "act": "#c62828", "verify": "#ef6c00", "collect": "#f9a825", "fix": "#6a1b9a", "due": "#90caf9"}
_FONT = "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"


def _bar(title: str, labels: list[str], values: list[float], name: str,
         stacked: dict[str, tuple[str, list[float]]] | None = None) -> Chart:
    """A horizontal bar chart as SVG; ``stacked``: key -> (legend label, values), coloured by key."""
    from html import escape

    width, label_w, row, top = 880, 300, 22, 34
    series = list(stacked.items()) if stacked else [("", ("", values))]
    totals = [sum(vals[i] for _, (_, vals) in series) for i in range(len(labels))]
    most = max(totals, default=0.0) or 1.0
    span = width - label_w - 90
    legend_h = 22 if stacked else 0
    height = top + row * len(labels) + legend_h + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="{escape(_FONT)}" font-size="12">',
           f'<text x="{width / 2:.0f}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>']
    for i, label in enumerate(labels):
        y = top + i * row
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        left = 0.0
        for key, (legend, vals) in series:
            w = vals[i] / most * span
            if w > 0:
                out.append(f'<rect x="{label_w + left:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                           f'fill="{COLORS.get(key, "#3b6ea5")}"><title>{escape(legend or label)}: '
                           f'{vals[i]:,.0f}</title></rect>')
            left += w
        if not stacked:
            out.append(f'<text x="{label_w + left + 4:.1f}" y="{y + 15}">{totals[i]:,.0f}</text>')
    if stacked:
        x, y = label_w, top + row * len(labels) + 8
        for key, (legend, _) in series:
            out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{COLORS.get(key, "#3b6ea5")}"/>'
                       f'<text x="{x + 16}" y="{y + 11}" font-size="11">{escape(legend)}</text>')
            x += 28 + 12 * len(legend) if not legend.isascii() else 28 + 7 * len(legend)
    out.append("</svg>")
    return Chart(name, title, "".join(out).encode("utf-8"))


def _short(text: str, n: int = 18) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _measure_rows(kb: KB, s: ScreenSummary) -> list[dict[str, Any]]:
    """The measures, the most applicable first, with their text and clause in the summary's language."""
    out = []
    for mid in sorted(s.by_measure, key=lambda m: -s.by_measure[m].get("applies", 0)):
        m = kb.measures.get(mid)
        out.append({"id": mid, "text": getattr(m, s.lang) if m is not None else mid,
                    "clause": kb.clauses[kb.measure_clause[mid]].number if m is not None else "",
                    "counts": s.by_measure[mid]})
    return out


def report_context(kb: KB, s: ScreenSummary) -> dict[str, Any]:
    """What the report template shows: the summary, its words, and the measures' texts."""
    q = (s.as_of.month - 1) // 3 + 1
    return {"s": s, "w": words(s.lang), "measures": _measure_rows(kb, s), "quarter": f"{s.as_of.year}-Q{q}",
            "statuses": STATUSES, "actions": [a for a in ACTIONS if any(x.actions.get(a) for x in s.workload)],
            "shown": SHOWN}


#: the charts' names: a Markdown report's are written beside it as ``<report stem>-<name>.svg``
CHART_NAMES = ("sites", "measures", "missing", "workload")


def charts(kb: KB, s: ScreenSummary) -> list[Chart]:
    w = words(s.lang)
    out = []
    if s.by_site:
        sites = list(s.by_site.items())[:TOP]
        out.append(_bar(w["chart"]["sites"], [k for k, _ in sites], [float(v) for _, v in sites], "sites"))
    rows = _measure_rows(kb, s)[:TOP]
    if rows:
        present = [st for st in STATUSES if any(r["counts"].get(st) for r in rows)]
        out.append(_bar(w["chart"]["measures"], [f"{r['clause']} {_short(r['text'])}" for r in rows], [], "measures",
                        {st: (w["status"][st], [float(r["counts"].get(st, 0)) for r in rows]) for st in present}))
    if s.missing_facts:
        facts = s.missing_facts[:TOP]
        out.append(_bar(w["chart"]["missing"], [_short(m.question, 24) for m in facts],
                        [float(m.settles) for m in facts], "missing"))
    if s.workload:
        bodies = s.workload[:TOP]
        present = [a for a in ACTIONS if any(x.actions.get(a) for x in bodies)]
        out.append(_bar(w["chart"]["workload"], [x.name or w["no_office"] for x in bodies], [], "workload",
                        {a: (w["action"][a], [float(x.actions.get(a, 0)) for x in bodies]) for a in present}))
    return out


def write_report(kb: KB, s: ScreenSummary, path: Path) -> None:
    """The report as .html (charts embedded), .md (charts beside it) or .xlsx (one sheet per table)."""
    kind = path.suffix.lower()
    if kind == ".xlsx":
        with written_whole(path) as partial:
            _xlsx(kb, s, partial)
        return
    pics = charts(kb, s)
    if kind == ".md":
        for c in pics:
            with written_whole(path.parent / f"{path.stem}-{c.name}.svg") as partial:
                partial.write_bytes(c.svg)
    text = _environment(kind == ".html").get_template("screen_report.j2").render(
        **report_context(kb, s), lang=s.lang, fmt=kind.lstrip("."),
        charts=[{"title": c.title, "src": c.data_uri if kind == ".html" else f"{path.stem}-{c.name}.svg"}
                for c in pics])
    with written_whole(path) as partial:
        partial.write_text(text, encoding="utf-8")


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, taken: set[str]) -> str:
    """A worksheet name Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = _SHEET_BAD.sub("-", name)[:31] or "sheet"
    got, i = base, 2
    while got in taken:
        got = f"{base[:28]}-{i}"
        i += 1
    taken.add(got)
    return got


def _who(w: dict[str, Any], member: int | None, entity: int | None) -> str:
    if member is not None:
        return str(w["member_no"]).format(n=member)
    if entity is not None:
        return str(w["business_no"]).format(n=entity)
    return ""


def _xlsx(kb: KB, s: ScreenSummary, path: Path) -> None:
    import openpyxl

    w = words(s.lang)
    c, sheet = w["col"], w["sheet"]
    book = openpyxl.Workbook(write_only=True)
    taken: set[str] = set()

    def add(name: str, header: list[str], rows: list[list[Any]]) -> None:
        ws = book.create_sheet(_sheet_name(name, taken))
        ws.append(header)
        for r in rows:
            ws.append(r)

    add(sheet["summary"], [c["item"], c["value"]],
        [[w["about"][k], str(getattr(s, k))] for k in ("as_of", "rows_in", "screened", "rejected", "people",
                                                        "kb_version")])
    add(sheet["by_site"], [c["site"], c["households"]], [[k, v] for k, v in s.by_site.items()])
    add(sheet["by_category"], [c["category"], c["households"]], [[k, v] for k, v in s.by_category.items()])
    add(sheet["measures"], [c["measure_id"], c["measure"], c["clause"], *(w["status"][st] for st in STATUSES)],
        [[r["id"], r["text"], r["clause"], *(r["counts"].get(st, 0) for st in STATUSES)] for r in _measure_rows(kb, s)])
    for item in s.lists:
        # One sheet per list, both groups, so a filter on the first column gives either.
        add(item.title, [c["group"], c["household"], c["name"], c["site"], c["ask"]],
            [[w["confirmed"], h.household, h.name, h.site, None] for h in item.confirmed.households]
            + [[w["to_check_short"], h.household, h.name, h.site,
                w["sep"].join(" ".join(filter(None, (_who(w, a.member, a.entity), a.question))) for a in h.ask)]
               for h in item.to_check.households])
    add(sheet["training"], [c["household"], c["member"], c["trainings_owed"]],
        [[x.household, _who(w, x.member, None), x.value] for x in s.training.listed])
    add(sheet["subsidies"], [c["household"], c["business"], c["yuan"]],
        [[x.household, _who(w, None, x.entity), x.value] for x in s.subsidies.listed])
    add(sheet["missing"], [c["question"], c["field"], c["settles"], c["holder"]],
        [[m.question, m.fact, m.settles, w["sep"].join(m.held_by)] for m in s.missing_facts])
    add(sheet["workload"], [c["department"], w["action"]["all"], *(w["action"][a] for a in ACTIONS)],
        [[x.name or w["no_office"], x.households, *(x.actions.get(a, 0) for a in ACTIONS)] for x in s.workload])
    add(sheet["requests"], [c["holder"], c["household"], c["name"], c["site"], c["member"], c["ask"]],
        [[r.name or w["no_holder"], x.household, x.name, x.site, _who(w, x.ask.member, x.ask.entity), x.ask.question]
         for r in s.data_requests for x in r.listed])
    add(sheet["errors"], [c["file"], c["row"], c["column"], c["reason"]],
        [[e.file, e.row, e.column, e.reason] for e in s.errors])
    book.save(path)


# --- the data requests: one workbook per body ----------------------------------------------------------------


_FILE_BAD = re.compile(r'[\\/:*?"<>|\s]+')


class RequestFiles:
    """Each body's data-request list, written as the screener hands on its rows: one XLSX per body, one row per
    (household, fact) with the register it is kept in, the column to fill it back under and the determinations it
    would settle; and a sheet saying what the list is, its counts and the register's basis."""

    def __init__(self, kb: KB, folder: Path, entity: str, lang: str):
        self.kb, self.folder, self.entity, self.lang = kb, folder, entity, lang
        self.w = words(lang)
        folder.mkdir(parents=True, exist_ok=True)
        self.books: dict[str, tuple[Any, Any, Any]] = {}  # body -> (book, about sheet, request sheet)
        self.paths: dict[str, Path] = {}
        self._fields: dict[str, tuple[int | None, int | None, str, str]] = {}

    def _book(self, body: str) -> Any:
        if body not in self.books:
            import openpyxl

            name = self._name(body)
            path = self.folder / f"{_FILE_BAD.sub('_', name)}.xlsx"
            i = 2
            while path in self.paths.values():
                path = self.folder / f"{_FILE_BAD.sub('_', name)}-{i}.xlsx"
                i += 1
            book = openpyxl.Workbook(write_only=True)
            about = book.create_sheet(_sheet_name(self.w["sheet"]["about"], set()))
            sheet = book.create_sheet(_sheet_name(self.w["sheet"]["requests"], set()))
            sheet.append(list(self.w["request_file"]["header"]))
            self.books[body], self.paths[body] = (book, about, sheet), path
        return self.books[body][2]

    def _name(self, body: str) -> str:
        return body_name(self.kb, body, self.lang) if body else str(self.w["no_holder"])

    def _field(self, path: str) -> tuple[int | None, int | None, str, str]:
        """A path's member or business number, its question, and the column to fill it back under."""
        if path not in self._fields:
            head, _, fact = path.partition("].")
            if not fact:
                head, fact = "", path
            number = int(head.rsplit("[", 1)[-1]) + 1 if head else None
            level = "member" if head.startswith("members") else "entity" if head.startswith("entities") \
                else self.entity
            label = self.kb.fact_labels.get(fact)
            # The header to fill it back under: the first Chinese header columns.yaml accepts, or the field's name.
            aliases = getattr(self.kb.columns, level, {}).get(fact, [])
            column = message("words", "request_column", self.lang, {"header": aliases[0] if aliases else fact,
                                                                    "fact": fact})
            self._fields[path] = (number if level == "member" else None, number if level == "entity" else None,
                                  getattr(label, self.lang) if label is not None else fact, column)
        return self._fields[path]

    def __call__(self, table: pa.Table) -> None:
        cols = {name: table.column(name).combine_chunks() for name in table.column_names}
        decoded = {name: (col.dictionary.take(col.indices) if pa.types.is_dictionary(col.type) else col).to_pylist()
                   for name, col in cols.items()}
        titles = [getattr(item, self.lang) for item in self.kb.lists]
        for body, register, household, name, site, path, settles, lists in zip(
                decoded["body"], decoded["register"], decoded["household"], decoded["name"], decoded["site"],
                decoded["path"], decoded["settles"], decoded["lists"], strict=True):
            member, entity, question, column = self._field(path)
            r = self.kb.registers.get(register)
            self._book(body).append([
                household, name, site, _who(self.w, member, entity), question, column,
                getattr(r, self.lang) if r is not None else "", settles or None,
                self.w["sep"].join(t for k, t in enumerate(titles) if lists >> k & 1) or None, None])

    def close(self, totals: ScreenTotals) -> dict[str, str]:
        """Say what each list is, save the workbooks, and return them by body."""
        rf = self.w["request_file"]
        for body, (book, about, _) in self.books.items():
            rt = totals.requests.get(body)
            about.append([str(rf["title"]).format(body=self._name(body))])
            about.append([rf["intro"]])
            about.append([rf["as_of"], totals.as_of.isoformat()])
            about.append([rf["kb_version"], totals.kb_version])
            about.append([rf["households"], rt.households if rt else 0])
            about.append([rf["requests"], rt.pairs if rt else 0])
            about.append([])
            about.append([rf["registers"], rf["basis"], rf["reason"]])
            for rid, _ in (rt.registers.most_common() if rt else []):
                r = self.kb.registers.get(rid)
                if r is not None:
                    about.append([getattr(r, self.lang), self.w["basis"][r.basis.value], r.reason])
            about.append([])
            about.append([rf["facts"]])
            for fact, v in (rt.by_fact.most_common() if rt else []):
                label = self.kb.fact_labels.get(fact)
                about.append([getattr(label, self.lang) if label is not None else fact, v])
            with written_whole(self.paths[body]) as partial:
                book.save(partial)
        return {body: str(path) for body, path in self.paths.items()}
