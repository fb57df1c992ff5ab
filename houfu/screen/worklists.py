"""政策找人: each department's worklist as an XLSX file, and its answers taken back.

``houfu screen CASELOAD --worklists DIR`` writes one workbook per responsible department: a cover sheet (the
department, the screen id, ``kb_version``, the counts, the deadlines and whose they are, how to fill it in) and a
sheet of rows, grouped by site and sorted by due date, each with a key, the masked household id, the measure, its
clause, the handler's basis, the action, the facts to confirm, the due date and four answer columns (核实结果 with a
drop-down, 说明, 经办人, 日期). The rows as sent are kept in the records store under the screen id.

``houfu worklist import FILE…`` reads filled workbooks back: each answer becomes an append-only record linked to
the screen run, the department and the measure; a row that does not match what was sent (an edited key, a measure
not on it, a date in the future) is refused with its reason; an answer already kept is not kept twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from houfu.io.files import written_whole
from houfu.io.privacy import mask_personal
from houfu.io.workbook import Grid
from houfu.kb.clocks import CaseClock
from houfu.kb.loader import KB
from houfu.screen.caseload_report import _FILE_BAD, _sheet_name, words
from houfu.screen.screener import WORK
from houfu.screen.summary import (
    OverdueCount,
    OverdueItem,
    OverdueSummary,
    Tracked,
    TrackerSummary,
    body_name,
)

if TYPE_CHECKING:  # the records store (SQLAlchemy, a fifth of a screen's imports) only where a store is used
    from houfu.records.store import Answer, RecordStore, WorklistItem

__all__ = ["RESULTS", "ImportResult", "Refusal", "WorklistError", "WorklistFiles", "import_worklists",
           "overdue_by_department", "worklist_status"]

#: The answers a department chooses from (the drop-down), and what houfu records for each.
RESULTS = {"已核实": "confirmed", "不符合": "returned", "需补充": "needs_info", "已办结": "done"}
#: The columns of a worklist sheet, by position (the header's words are in templates/_screen_words.j2).
KEY, MEASURE, RESULT, NOTE, PERSON, DATE = 0, 5, 14, 15, 16, 17
WIDTH = 18
SHEET_ROWS = "清单"
MARK = "houfu worklist 1"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _cells(values: list[str | None]) -> str:
    """Cells of a worksheet row as XML, in order (an empty cell for None): inline strings, as openpyxl writes them.
    openpyxl builds an object per cell, and 450,000 rows took it four minutes; these are joined text."""
    out = []
    for v in values:
        if v is None or v == "":
            out.append("<c/>")
        else:
            text = _NOT_XML.sub("", v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
            space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
            out.append(f'<c t="inlineStr"><is><t{space}>{text}</t></is></c>')
    return "".join(out)


def _fill_rows(path: Path, rows: str) -> None:
    """Put the rows into the worklist sheet of a workbook openpyxl saved with its header only (the sheet of the
    rows is the book's second: xl/worksheets/sheet2.xml)."""
    import zipfile

    part = "xl/worksheets/sheet2.xml"
    with written_whole(path) as tmp, zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) \
            as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                text = data.decode("utf-8")
                assert text.count("</sheetData>") == 1, "the rows' sheet as openpyxl writes it"
                head, _, tail = text.partition("</sheetData>")
                entry = zipfile.ZipInfo(part, info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(entry, "w") as fh:
                    fh.write(head.encode())
                    fh.write(rows.encode())
                    fh.write(b"</sheetData>" + tail.encode())
            else:
                dst.writestr(info, data)


class WorklistError(Exception):
    """A workbook that is not a houfu worklist, or names a screen run the store does not hold (one line)."""


def clock_text(w: dict[str, Any], c: CaseClock) -> str:
    """A clock in the report's words, saying whose rule it is (the text's, or a county's own, and an example)."""
    wf = w["worklist_file"]
    example = str(wf["clock_example"]).format(example=wf["example"]) if c.example else ""
    own = wf["text_clock"] if c.source == "text" else wf["county_clock"]
    span = c.clock.date.isoformat() if c.clock.date is not None else str(wf["span"]).format(**{
        "from": wf["from"][c.clock.runs_from.value], "days": str(wf["days"][c.clock.count.value]).format(n=c.clock.days)})
    return str(wf["clock_line"]).format(span=span, own=own, whose=c.whose, basis=c.basis, example=example)


def clock_record(c: CaseClock) -> dict[str, Any]:
    """A clock as the records store keeps it with a screen run (``kept_clock`` reads it back)."""
    from houfu.kb.models import Clock

    return {"clock": c.clock.model_dump(mode="json", include=set(Clock.model_fields)), "source": c.source,
            "whose": c.whose, "basis": c.basis, "example": c.example}


def kept_clock(store: RecordStore, list_id: str, as_of: dt.date) -> CaseClock | None:
    """The clock of a list as the latest screen run up to ``as_of`` that listed it kept it (the tracker's page)."""
    from houfu.kb.models import Clock

    for run_id, day, _, _ in reversed(store.sightings(list_id)):
        run = store.screen(run_id)
        if day > as_of or run is None:
            continue
        got = (run.summary.get("clocks") or {}).get(list_id) if isinstance(run.summary, dict) else None
        if not got:
            return None
        return CaseClock(list_id, Clock.model_validate(got["clock"]), got["source"], got["whose"], got["basis"],
                         got["example"])
    return None


def item_key(screen_id: str, department: str, household: str, measure: str) -> str:
    """The key printed on a row: the same row of the same run always gets it, and no edit of it lands on
    another row unnoticed (64 bits of a hash)."""
    return hashlib.sha256(f"{screen_id}\x1f{department}\x1f{household}\x1f{measure}".encode()).hexdigest()[:16]


@dataclass
class WorklistFiles:
    """Takes the screener's worklist rows chunk by chunk, and writes one workbook per department at the end."""

    kb: KB
    folder: Path
    lang: str
    due: dict[str, dt.date]
    clocks: dict[str, CaseClock]
    tables: list[pa.Table] = field(default_factory=list)
    #: with --since: only these (household + "\x1f" + measure) pairs, and the households that joined, are listed
    keep: tuple[set[str], set[str]] | None = None

    def __call__(self, table: pa.Table) -> None:
        self.tables.append(table)

    def close(self, screen_id: str, as_of: dt.date
              ) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]]]:
        """Write the workbooks; returns them by department, and each department's rows as sent (for the records
        store)."""
        import openpyxl
        from openpyxl.worksheet.datavalidation import DataValidation

        self.folder.mkdir(parents=True, exist_ok=True)
        w = words(self.lang)
        wf = w["worklist_file"]
        paths: dict[str, str] = {}
        lists: dict[str, list[dict[str, Any]]] = {}
        if not self.tables:
            return paths, lists
        table = pa.concat_tables([t.cast(pa.schema([pa.field(f.name, pa.string()) for f in t.schema]))
                                  for t in self.tables])
        self.tables = []
        if self.keep is not None:
            pairs, joined = self.keep
            key = pc.binary_join_element_wise(table.column("household"), table.column("measure"), "\x1f")
            table = table.filter(pc.or_(pc.is_in(key, value_set=pa.array(sorted(pairs), pa.string())),
                                        pc.is_in(table.column("household"),
                                                 value_set=pa.array(sorted(joined), pa.string()))))
        measures = table.column("measure")
        due_text = {m: d.isoformat() for m, d in self.due.items()}
        table = table.append_column("due", pc.take(pa.array([due_text.get(m) for m in pc.unique(measures).to_pylist()]
                                                            ), pc.index_in(measures, pc.unique(measures))))
        # Grouped by site, the earliest due first, then household and measure: one order however the run was cut
        # (ISO dates sort as text).
        table = table.sort_by([("body", "ascending"), ("site", "ascending"), ("due", "ascending"),
                               ("household", "ascending"), ("measure", "ascending")])
        # The cells every row of a measure shares (its text, clause, handler's basis, whose deadline), as XML once.
        shared = {mid: (_cells([mid, *texts[:3]]), _cells([texts[3] or None])) for mid, texts in
                  self._measure_texts(w).items()}
        action_cells = {a: _cells([w["action"][a]]) for a in WORK}
        overdue = {True: _cells([wf["yes"]]), False: _cells([wf["no"]])}
        labels: dict[str, str] = {}
        taken: set[str] = set()
        bodies = table.column("body")
        for body in pc.unique(bodies).to_pylist():
            rows = table.filter(pc.equal(bodies, body))
            name = body_name(self.kb, body, self.lang)
            path = self.folder / f"{_FILE_BAD.sub('_', name)}.xlsx"
            if path.name in taken:
                path = self.folder / f"{_FILE_BAD.sub('_', name)}-{body}.xlsx"
            taken.add(path.name)
            n = rows.num_rows
            households: set[str] = set()
            actions: Counter[str] = Counter()
            cols = {k: rows.column(k).to_pylist() for k in ("household", "name", "site", "measure", "action",
                                                            "facts", "due")}
            xml: list[str] = []
            items: list[dict[str, Any]] = []
            for r, (household, hname, site, mid, action, facts, due) in enumerate(zip(
                    cols["household"], cols["name"], cols["site"], cols["measure"], cols["action"], cols["facts"],
                    cols["due"], strict=True), start=2):
                key = item_key(screen_id, body, household, mid)
                if facts not in labels:
                    labels[facts] = w["sep"].join(self._label(p) for p in facts.split(";")) if facts else ""
                head, whose = shared[mid]
                xml.append(f'<row r="{r}">{_cells([key, site, mask_personal(household), mask_personal(hname), None])}'
                           f'{head}{action_cells[action]}{_cells([labels[facts] or None, due])}'
                           f'{overdue[as_of.isoformat() > due] if due is not None else "<c/>"}{whose}</row>')
                households.add(household)
                actions[action] += 1
                items.append({"item_key": key, "household": household, "measure": mid, "site": site,
                              "action": action, "facts": facts or "", "due_on": due})
            book = openpyxl.Workbook(write_only=True)
            cover = book.create_sheet(_sheet_name(w["sheet"]["about"], set()))
            sheet = book.create_sheet(SHEET_ROWS)
            sheet.append(list(wf["header"]))
            if n:
                choice = DataValidation(type="list", formula1='"' + ",".join(RESULTS) + '"', allow_blank=True,
                                        showErrorMessage=True)
                col = openpyxl.utils.get_column_letter(RESULT + 1)
                choice.add(f"{col}2:{col}{n + 1}")
                sheet.data_validations.append(choice)
                dates = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
                col = openpyxl.utils.get_column_letter(DATE + 1)
                dates.add(f"{col}2:{col}{n + 1}")
                sheet.data_validations.append(dates)
            cover.append([str(wf["title"]).format(department=name)])
            cover.append([wf["intro"]])
            cover.append([wf["department"], name, body])
            cover.append([wf["screen_id"], screen_id, MARK])
            cover.append([wf["as_of"], as_of])
            cover.append([wf["kb_version"], self.kb.version])
            cover.append([wf["households"], len(households)])
            cover.append([wf["rows"], n])
            cover.append([wf["by_action"], *(f"{w['action'][a]} {actions[a]}" for a in WORK if actions[a])])
            cover.append([])
            cover.append([wf["clocks"]])
            texts = self._measure_texts(w)
            timed = sorted({m for m in cols["measure"] if m in self.clocks})
            if not timed:
                cover.append([wf["no_clock"]])
            for mid in timed:
                cover.append([mid, texts[mid][0], texts[mid][3]])
            cover.append([])
            for line in wf["how"]:
                cover.append([line])
            with written_whole(path) as partial:  # the header saved, then the rows put in: a whole book or none
                book.save(partial)
                _fill_rows(partial, "".join(xml))
            paths[body] = str(path)
            lists[body] = items
        return paths, lists

    def _label(self, path: str) -> str:
        fact = path.split("].", 1)[-1]
        label = self.kb.fact_labels.get(fact)
        text = getattr(label, self.lang) if label is not None else fact
        head = path.partition("].")[0] if "]." in path else ""
        if head:
            collection, _, number = head.partition("[")
            who = "member_no" if collection == "members" else "business_no"
            return f"{str(words(self.lang)[who]).format(n=int(number) + 1)} {text}"
        return str(text)

    def _measure_texts(self, w: dict[str, Any]) -> dict[str, tuple[str, str, str, str]]:
        """Per measure: its text, its clause (document and number), the handler's basis, and whose deadline."""
        out: dict[str, tuple[str, str, str, str]] = {}
        for mid, m in self.kb.measures.items():
            clause = self.kb.clauses[self.kb.measure_clause[mid]]
            doc = self.kb.documents[self.kb.clause_doc[clause.id]].doc
            cite = str(getattr(doc.cite_as, self.lang)) if doc.cite_as is not None else doc.short_name
            h = m.handler
            basis = f"{w['basis'][h.basis.value]}{w['colon']}{h.text or h.reason}" if h is not None else ""
            c = self.clocks.get(mid)
            out[mid] = (str(getattr(m, self.lang)), f"{cite} {clause.number}", basis,
                        clock_text(w, c) if c is not None else "")
        return out


# --- answers taken back ---------------------------------------------------------------------------------------


@dataclass
class Refusal:
    """A row refused on import: the file, the row as Excel numbers it, the sheet's column, and why in words of no
    language (``kind`` and ``params``: templates/screen_messages.yaml, ``worklist_refusals``)."""

    file: str
    row: int
    column: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def reason_in(self, lang: str) -> str:
        from houfu.io.notes import message

        return message("worklist_refusals", self.kind, lang, self.params)

    @property
    def reason(self) -> str:
        return self.reason_in("en")

    def text(self, lang: str = "en") -> str:
        return f"{self.file}: row {self.row}: {self.column}: {self.reason_in(lang)}"


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    unanswered: int = 0
    refused: list[Refusal] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _cover(grid: Grid | None, name: str) -> tuple[str, str]:
    """The department and screen id a worklist's cover sheet names (rows 3 and 4)."""
    cells = dict(grid.rows) if grid is not None else {}
    dept, run = cells.get(3, {}), cells.get(4, {})
    if run.get(3) != MARK or not dept.get(3) or not run.get(2):
        raise WorklistError(f"{name}: cover: not a houfu worklist (its cover sheet names no screen id)")
    return str(dept[3]), str(run[2])


def _day(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    import re

    m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError(text)


def _changed_facts(item: WorklistItem, result: str, note: str | None) -> dict[str, Any] | None:
    """The facts an answer changes, kept as a new record beside the answer (never an edit of the caseload): 需补充
    with a value gives the facts it names (one fact to confirm: the note is its value; several: fact=value pairs),
    不符合 the household's return from the measure with its reason."""
    if result == "returned":
        return {"returned": {"measure": item.measure, "reason": note}}
    if result != "needs_info" or not note:
        return None
    paths = [p for p in item.facts.split(";") if p]
    if len(paths) == 1 and "=" not in note:
        return {paths[0]: note}
    out: dict[str, Any] = {}
    for part in note.replace(";", ";").split(";"):
        k, eq, v = part.partition("=")
        if eq and k.strip():
            out[k.strip()] = v.strip()
    return out or None


def import_worklists(store: RecordStore, files: list[Path], user: str, today: dt.date) -> ImportResult:
    """Read filled worklists back into the store: each answered row is an answer record; rows that do not match
    what was sent are refused one by one, with the reason; answers already kept are not kept again."""
    from houfu.io.limits import LIMITS, Deadline, TableError
    from houfu.io.workbook import read_workbook
    from houfu.records.store import Answer

    out = ImportResult()
    for path in files:
        name = path.name
        try:
            grids = {g.name: g for g in read_workbook(path, LIMITS, Deadline(LIMITS.seconds))}
        except TableError as exc:
            raise WorklistError(str(exc)) from None
        department, screen_id = _cover(next(iter(grids.values()), None), str(path))
        if store.screen(screen_id) is None:
            raise WorklistError(f"{path}: screen id: {screen_id} is not a screen run in this records store")
        if SHEET_ROWS not in grids:
            raise WorklistError(f"{path}: {SHEET_ROWS}: the worklist sheet is missing")
        sent = store.worklist_items(screen_id, department)
        answers: list[Answer] = []
        for number, row in grids[SHEET_ROWS].rows:
            if number == 1:
                continue
            cells = [row.get(i + 1) for i in range(WIDTH)]
            if all(c is None or str(c).strip() == "" for c in cells):
                continue
            chosen = str(cells[RESULT]).strip() if cells[RESULT] is not None else ""
            key = str(cells[KEY]).strip() if cells[KEY] is not None else ""
            item = sent.get(key)

            def refuse(column: str, kind: str, n: int = number, file: str = name, **params: Any) -> None:
                out.refused.append(Refusal(file, n, column, kind, params))

            if item is None or item.department != department:
                refuse("编号", "not_on_list", key=key or "(empty)", screen=screen_id)
                continue
            measure = str(cells[MEASURE]).strip() if cells[MEASURE] is not None else ""
            if measure != item.measure:
                refuse("措施编号", "wrong_measure", measure=measure or "(empty)", key=key, expected=item.measure)
                continue
            if not chosen:
                out.unanswered += 1
                continue
            result = RESULTS.get(chosen)
            if result is None:
                refuse("核实结果", "not_a_result", value=chosen, allowed="/".join(RESULTS))
                continue
            try:
                day = _day(cells[DATE])
            except ValueError:
                refuse("日期", "not_a_date", value=cells[DATE])
                continue
            if day is None:
                refuse("日期", "no_date")
                continue
            if day > today:
                refuse("日期", "future", day=day.isoformat(), today=today.isoformat())
                continue
            person = str(cells[PERSON]).strip() if cells[PERSON] is not None else ""
            if not person:
                refuse("经办人", "no_person")
                continue
            note = str(cells[NOTE]).strip() if cells[NOTE] is not None else None
            if result == "returned" and not note:
                refuse("说明", "no_reason")
                continue
            answers.append(Answer(screen_id=screen_id, item_key=key, department=department,
                                  household=item.household, measure=item.measure, result=result, note=note or None,
                                  person=person, answered_on=day, facts=_changed_facts(item, result, note),
                                  source=f"{name}#{number}", user=user))
        added, already = store.add_answers(answers)
        out.added += added
        out.already += already
        out.files.append(str(path))
    return out


@dataclass
class DepartmentStatus:
    department: str
    name: str
    listed: int = 0
    open: int = 0
    confirmed: int = 0
    done: int = 0
    returned: int = 0
    needs_info: int = 0
    overdue: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def worklist_status(kb: KB, store: RecordStore, as_of: dt.date, screen_id: str | None = None,
                    department: str | None = None, lang: str = "zh") -> tuple[str | None, list[DepartmentStatus]]:
    """Per department, for a screen run's worklists (the latest by default): rows listed, open (no answer yet),
    confirmed, done, returned (不符合), needing information, and overdue (past the due date on ``as_of`` and neither
    done nor returned). A row's latest answer counts."""
    if screen_id is None:
        runs = store.worklist_screens()
        if not runs:
            return None, []
        screen_id = runs[0]
    items = store.worklist_items(screen_id, department)
    latest = _latest(store.answers(screen_id, department))
    out: dict[str, DepartmentStatus] = {}
    for key, item in items.items():
        st = out.get(item.department)
        if st is None:
            st = out[item.department] = DepartmentStatus(item.department, body_name(kb, item.department, lang))
        st.listed += 1
        answer = latest.get(key)
        result = answer.result if answer is not None else "open"
        setattr(st, result, getattr(st, result) + 1)
        if _late(item, answer, as_of):
            st.overdue += 1
    return screen_id, sorted(out.values(), key=lambda s: (-s.listed, s.department))


def _latest(answers: list[Answer]) -> dict[str, Answer]:
    """Each row's latest answer by its date (of two on one day, the one kept later)."""
    latest: dict[str, Answer] = {}
    for a in answers:
        prior = latest.get(a.item_key)
        if prior is None or (a.answered_on or dt.date.min) >= (prior.answered_on or dt.date.min):
            latest[a.item_key] = a
    return latest


def _late(item: WorklistItem, answer: Answer | None, as_of: dt.date) -> bool:
    """Overdue: past its due date on ``as_of``, and its latest answer neither done nor returned."""
    return (answer is None or answer.result not in ("done", "returned")) and item.due_on is not None \
        and as_of > item.due_on


def overdue_by_department(kb: KB, store: RecordStore, as_of: dt.date,
                          still_open: Callable[[set[tuple[str, str]]], set[tuple[str, str]]] | None = None,
                          lang: str = "zh", listed: int = 50) -> OverdueSummary | None:
    """Each department's overdue rows on ``as_of`` (the rule of ``worklist status``), over every screen run kept in
    the store with worklists up to ``as_of``: a case (department, household, measure) sent on several lists counts
    by its latest listing. ``still_open`` (given this screen's determinations) keeps the cases this screen still
    finds open, so a case the data has closed is not called late."""
    from houfu.records.store import WorklistItem

    runs = [r for r in (store.screen(i) for i in store.worklist_screens()) if r is not None and r.as_of <= as_of]
    if not runs:
        return None
    runs.sort(key=lambda r: (r.as_of, r.created_at))
    day = as_of.isoformat()
    # A run whose earliest due date (kept with it) is not yet past has no late row: it is read only to see whether
    # it lists again a case an earlier run has late (a 457,344-row run takes seconds to read).
    candidates: dict[tuple[str, str, str], tuple[str, dict[str, Any], int]] = {}
    for k, run in enumerate(runs):
        first = run.summary.get("due_first", "") if isinstance(run.summary, dict) else ""
        if first is None or (first and first >= day):
            continue
        for department, x in store.worklist_rows(run.screen_id):
            if x.get("due_on") is not None and x["due_on"] < day:
                candidates[(department, x["household"], x["measure"])] = (department, x, k)
    # A case listed again by a later run counts by that listing (not late, or late there and kept above).
    for k in range(min((c[2] for c in candidates.values()), default=len(runs)) + 1, len(runs)):
        for department, x in store.worklist_rows(runs[k].screen_id):
            got = candidates.get((department, x["household"], x["measure"]))
            if got is not None and got[2] < k:
                del candidates[(department, x["household"], x["measure"])]
    answers = _latest(store.answers()) if candidates else {}
    late = []
    for department, x, k in candidates.values():
        item = WorklistItem(screen_id=runs[k].screen_id, department=department, **x)
        if _late(item, answers.get(item.item_key), as_of):
            late.append((item, runs[k].as_of))
    checked = still_open is not None
    if still_open is not None and late:
        keep = still_open({(i.household, i.measure) for i, _ in late})
        late = [(i, on) for i, on in late if (i.household, i.measure) in keep]
    by_body: dict[str, list[OverdueItem]] = {}
    for item, on in late:
        m = kb.measures.get(item.measure)
        answer = answers.get(item.item_key)
        assert item.due_on is not None
        by_body.setdefault(item.department, []).append(OverdueItem(
            household=item.household, measure=item.measure, text=getattr(m, lang) if m is not None else item.measure,
            listed_on=on, due_on=item.due_on, days_late=(as_of - item.due_on).days,
            answer=answer.result if answer is not None else None))
    departments = [OverdueCount(department=b, name=body_name(kb, b, lang), overdue=len(rows),
                                listed=sorted(rows, key=lambda x: (-x.days_late, x.household, x.measure))[:listed])
                   for b, rows in by_body.items()]
    departments.sort(key=lambda d: (-d.overdue, d.department))
    return OverdueSummary(as_of=as_of, screens=len(runs), overdue=len(late), checked_against_this_screen=checked,
                          departments=departments)


# --- the 动态清零 tracker ---------------------------------------------------------------------------------------

#: Answer values that say a member is in work (需补充 with a value for `employed`).
_IN_WORK = {"是", "true", "yes", "在业", "已就业"}


def track_list(kb: KB, store: RecordStore, as_of: dt.date, clock: CaseClock | None, list_id: str = "zero_employment",
               lang: str = "zh", listed: int = 200) -> TrackerSummary | None:
    """The tracker of a list over the screen runs kept in the store up to ``as_of``: each household from the first run
    that confirms it on the list until the first that no longer lists it (neither confirmed nor to check), with the
    departments' answers about it, the date an answer says a member is in work, and its days open against the
    list's clock (a county's own rule, if the clocks file gives one). A household listed again after it was
    cleared starts a new episode."""
    from houfu.engine.periods import due_on, overdue

    item = next((x for x in kb.lists if x.id == list_id), None)
    runs = [r for r in store.sightings(list_id) if r[1] <= as_of]
    if item is None or not runs:
        return None
    first: dict[str, dt.date] = {}
    cleared: dict[str, dt.date | None] = {}
    for _, day, yes, maybe in runs:
        for h in yes:
            if h not in first or cleared.get(h) is not None:
                first[h], cleared[h] = day, None
        for h in first:
            if cleared[h] is None and h not in yes and h not in maybe:
                cleared[h] = day
    last = runs[-1][1]
    said: dict[str, list[Answer]] = {}
    for a in store.answers():
        if a.household in first:
            said.setdefault(a.household, []).append(a)
    rows = []
    result = words(lang)["worklist_file"]["result"]
    for h, seen in first.items():
        # The answers of this episode: given on or after the day it was first seen.
        answers = sorted((a for a in said.get(h, []) if (a.answered_on or as_of) >= seen),
                         key=lambda a: (a.answered_on or dt.date.min), reverse=True)
        working = [a.answered_on for a in answers if a.answered_on is not None and a.facts and any(
            k.endswith("employed") and str(v).strip().lower() in _IN_WORK for k, v in a.facts.items())]
        end = cleared[h]
        due = due_on(clock.clock, seen) if clock is not None else None
        late = end is None and overdue(due, as_of)
        rows.append(Tracked(household=h, first_seen=seen, cleared_on=end, employed_since=min(working, default=None),
                            days_open=((end or as_of) - seen).days, due_on=due, overdue=late,
                            answers=[f"{body_name(kb, a.department, lang)} {result[a.result]} {a.answered_on} {a.person or ''}"
                                     .strip() for a in answers]))
    # Overdue first, then the longest open, then those cleared by the latest run.
    rows.sort(key=lambda t: (t.cleared_on is not None, not t.overdue, -t.days_open, t.household))
    still = [t for t in rows if t.cleared_on is None]
    return TrackerSummary(list_id=list_id, title=getattr(item, lang), as_of=as_of, screens=len(runs), open=len(still),
                          new=sum(t.first_seen == last and t.cleared_on is None for t in rows),
                          cleared=sum(t.cleared_on == last for t in rows), overdue=sum(t.overdue for t in rows),
                          clock=clock_text(words(lang), clock) if clock is not None else None,
                          listed=[t for t in rows if t.cleared_on is None or t.cleared_on == last][:listed])
