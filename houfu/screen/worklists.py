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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from houfu.io.privacy import mask_personal
from houfu.kb.clocks import CaseClock
from houfu.kb.loader import KB
from houfu.records.store import Answer, RecordStore, WorklistItem
from houfu.screen.caseload_report import _FILE_BAD, _sheet_name, words
from houfu.screen.screener import WORK
from houfu.screen.summary import body_name

__all__ = ["RESULTS", "ImportResult", "Refusal", "WorklistError", "WorklistFiles", "import_worklists",
           "worklist_status"]

#: The answers a department chooses from (the drop-down), and what houfu records for each.
RESULTS = {"已核实": "confirmed", "不符合": "returned", "需补充": "needs_info", "已办结": "done"}
#: The columns of a worklist sheet, by position (the header's words are in templates/_screen_words.j2).
KEY, MEASURE, RESULT, NOTE, PERSON, DATE = 0, 5, 14, 15, 16, 17
WIDTH = 18
SHEET_ROWS = "清单"
MARK = "houfu worklist 1"


class WorklistError(Exception):
    """A workbook that is not a houfu worklist, or names a screen run the store does not hold (one line)."""


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

    def __call__(self, table: pa.Table) -> None:
        self.tables.append(table)

    def close(self, screen_id: str, as_of: dt.date) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Write the workbooks; returns them by department, and the rows as sent (for the records store)."""
        import openpyxl
        from openpyxl.worksheet.datavalidation import DataValidation

        self.folder.mkdir(parents=True, exist_ok=True)
        w = words(self.lang)
        wf = w["worklist_file"]
        paths: dict[str, str] = {}
        items: list[dict[str, Any]] = []
        if not self.tables:
            return paths, items
        table = pa.concat_tables([t.cast(pa.schema([pa.field(f.name, pa.string()) for f in t.schema]))
                                  for t in self.tables])
        self.tables = []
        epoch = dt.date(1970, 1, 1)
        measures = table.column("measure").to_pylist()
        due_days = pa.array([(self.due[m] - epoch).days if m in self.due else None for m in measures], pa.int32())
        table = table.append_column("due", due_days)
        # Grouped by site, the earliest due first, then household and measure: one order however the run was cut.
        table = table.sort_by([("body", "ascending"), ("site", "ascending"), ("due", "ascending"),
                               ("household", "ascending"), ("measure", "ascending")])
        texts = self._measure_texts(w)
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
            book = openpyxl.Workbook(write_only=True)
            cover = book.create_sheet(_sheet_name(w["sheet"]["about"], set()))
            sheet = book.create_sheet(SHEET_ROWS)
            sheet.append(list(wf["header"]))
            n = rows.num_rows
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
            households: set[str] = set()
            actions: Counter[str] = Counter()
            cols = {k: rows.column(k).to_pylist() for k in ("household", "name", "site", "measure", "action",
                                                            "facts", "due")}
            for household, hname, site, mid, action, facts, due in zip(
                    cols["household"], cols["name"], cols["site"], cols["measure"], cols["action"], cols["facts"],
                    cols["due"], strict=True):
                key = item_key(screen_id, body, household, mid)
                due_on = epoch + dt.timedelta(days=due) if due is not None else None
                if facts not in labels:
                    labels[facts] = w["sep"].join(self._label(p) for p in facts.split(";")) if facts else ""
                text, clause, basis, whose = texts[mid]
                sheet.append([key, site, mask_personal(household), mask_personal(hname), None, mid, text, clause,
                              basis, w["action"][action], labels[facts] or None, due_on,
                              (wf["yes"] if as_of > due_on else wf["no"]) if due_on is not None else None,
                              whose or None, None, None, None, None])
                households.add(household)
                actions[action] += 1
                items.append({"screen_id": screen_id, "item_key": key, "department": body, "household": household,
                              "measure": mid, "site": site, "action": action, "facts": facts or "",
                              "due_on": due_on})
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
            timed = sorted({m for m in cols["measure"] if m in self.clocks})
            if not timed:
                cover.append([wf["no_clock"]])
            for mid in timed:
                cover.append([mid, texts[mid][0], texts[mid][3]])
            cover.append([])
            for line in wf["how"]:
                cover.append([line])
            book.save(path)
            paths[body] = str(path)
        return paths, items

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
        wf = w["worklist_file"]
        out: dict[str, tuple[str, str, str, str]] = {}
        for mid, m in self.kb.measures.items():
            clause = self.kb.clauses[self.kb.measure_clause[mid]]
            doc = self.kb.documents[self.kb.clause_doc[clause.id]].doc
            cite = doc.cite_as.zh if doc.cite_as is not None and self.lang == "zh" else \
                doc.cite_as.en if doc.cite_as is not None else doc.short_name
            h = m.handler
            basis = f"{w['basis'][h.basis.value]}{w['colon']}{h.text or h.reason}" if h is not None else ""
            whose = ""
            c = self.clocks.get(mid)
            if c is not None:
                span = c.clock.date.isoformat() if c.clock.date is not None else \
                    f"{wf['from'][c.clock.runs_from.value]} {str(wf['days'][c.clock.count.value]).format(n=c.clock.days)}"
                own = wf["text_clock"] if c.source == "text" else wf["county_clock"]
                whose = f"{span}({own}{w['colon']}{c.whose};{c.basis}" + (f";{wf['example']}" if c.example else "") + ")"
            out[mid] = (str(getattr(m, self.lang)), f"{cite} {clause.number}", basis, whose)
        return out


# --- answers taken back ---------------------------------------------------------------------------------------


@dataclass
class Refusal:
    file: str
    row: int
    column: str
    reason: str

    def text(self) -> str:
        return f"{self.file}: row {self.row}: {self.column}: {self.reason}"


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    unanswered: int = 0
    refused: list[Refusal] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _cover(book: Any, name: str) -> tuple[str, str]:
    """The department and screen id a worklist's cover sheet names (rows 3 and 4)."""
    ws = book.worksheets[0] if book.worksheets else None
    cells = [list(r) for r in ws.iter_rows(min_row=3, max_row=4, values_only=True)] if ws is not None else []
    if len(cells) < 2 or len(cells[0]) < 3 or len(cells[1]) < 3 or cells[1][2] != MARK:
        raise WorklistError(f"{name}: cover: not a houfu worklist (its cover sheet names no screen id)")
    return str(cells[0][2]), str(cells[1][1])


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
    import zipfile

    import openpyxl

    out = ImportResult()
    for path in files:
        name = path.name
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise WorklistError(f"{path}: -: not an XLSX workbook ({type(exc).__name__})") from None
        department, screen_id = _cover(book, str(path))
        if store.screen(screen_id) is None:
            raise WorklistError(f"{path}: screen id: {screen_id} is not a screen run in this records store")
        if SHEET_ROWS not in book.sheetnames:
            raise WorklistError(f"{path}: {SHEET_ROWS}: the worklist sheet is missing")
        sent = store.worklist_items(screen_id)
        answers: list[Answer] = []
        for number, row in enumerate(book[SHEET_ROWS].iter_rows(min_row=2, values_only=True), start=2):
            cells = list(row) + [None] * max(0, WIDTH - len(row))
            if all(c is None or str(c).strip() == "" for c in cells):
                continue
            chosen = str(cells[RESULT]).strip() if cells[RESULT] is not None else ""
            key = str(cells[KEY]).strip() if cells[KEY] is not None else ""
            item = sent.get(key)

            def refuse(column: str, reason: str, n: int = number, file: str = name) -> None:
                out.refused.append(Refusal(file, n, column, reason))

            if item is None or item.department != department:
                refuse("编号", f"{key or '(empty)'} is not a row of this department's list for screen {screen_id} "
                              "(edited?)")
                continue
            measure = str(cells[MEASURE]).strip() if cells[MEASURE] is not None else ""
            if measure != item.measure:
                refuse("措施编号", f"{measure or '(empty)'} is not the measure of row {key} ({item.measure})")
                continue
            if not chosen:
                out.unanswered += 1
                continue
            result = RESULTS.get(chosen)
            if result is None:
                refuse("核实结果", f"{chosen!r} is not one of {'/'.join(RESULTS)}")
                continue
            try:
                day = _day(cells[DATE])
            except ValueError:
                refuse("日期", f"{cells[DATE]!r} is not a date (2026-12-01)")
                continue
            if day is None:
                refuse("日期", "the date of the answer is missing")
                continue
            if day > today:
                refuse("日期", f"{day.isoformat()} is in the future (today is {today.isoformat()})")
                continue
            person = str(cells[PERSON]).strip() if cells[PERSON] is not None else ""
            if not person:
                refuse("经办人", "the person who answered is missing")
                continue
            note = str(cells[NOTE]).strip() if cells[NOTE] is not None else None
            if result == "returned" and not note:
                refuse("说明", "不符合 needs the reason in 说明")
                continue
            answers.append(Answer(screen_id=screen_id, item_key=key, department=department,
                                  household=item.household, measure=item.measure, result=result, note=note or None,
                                  person=person, answered_on=day, facts=_changed_facts(item, result, note),
                                  source=f"{name}#{number}", user=user))
        book.close()
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
    latest: dict[str, Answer] = {}
    for a in store.answers(screen_id, department):
        prior = latest.get(a.item_key)
        if prior is None or (a.answered_on or dt.date.min) >= (prior.answered_on or dt.date.min):
            latest[a.item_key] = a
    out: dict[str, DepartmentStatus] = {}
    for key, item in items.items():
        st = out.get(item.department)
        if st is None:
            st = out[item.department] = DepartmentStatus(item.department, body_name(kb, item.department, lang))
        st.listed += 1
        answer = latest.get(key)
        result = answer.result if answer is not None else "open"
        setattr(st, result, getattr(st, result) + 1)
        if result not in ("done", "returned") and item.due_on is not None and as_of > item.due_on:
            st.overdue += 1
    return screen_id, sorted(out.values(), key=lambda s: (-s.listed, s.department))
