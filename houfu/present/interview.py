"""The interview without a terminal: interpret an answer, apply it, the next questions. ``houfu check --ask``
(houfu.cli.interview) and the interview page both use it. An interview that asks the questions worth asking and never loses an answer.

* The questions are the report's (ranked, gated per person in policies/vocabulary.yaml), one at a time.
* A choice shows numbered options and takes the number, the Chinese label, the English label or the code;
  yes/no takes 是/否, y/n, yes/no or true/false.
* A bad answer re-prompts with the reason, at any depth; nothing aborts the interview or blames the file.
* Prompts go to stderr, the result to stdout. Ctrl-D or ``q`` ends cleanly and says how many questions were
  answered; ``--save FILE`` then writes the household with every answer (keeping the original's order and
  comments, via ruamel.yaml).
* An unknown member list is a small sub-interview: how many, then each member's age, then the questions
  that follow from it.
* One household at a time: a batch file is refused with one line.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from houfu.engine.evaluator import Evaluator
from houfu.engine.logic import split_fact_path
from houfu.engine.results import Choice, Determination, Question, Report
from houfu.io.household_form import (
    MAX_ROWS,
    entity_row_facts,
    from_form,
    from_text,
    member_row_facts,
    whole_number,
)
from houfu.io.inputs import InputError, parse_record, read_records
from houfu.io.mapping import spec_for
from houfu.kb.facts import Household
from houfu.kb.loader import KB, FieldError

__all__ = ["QUIT", "Answer", "Column", "FormView", "Interview", "Problem", "answers_so_far", "apply_answers",
           "change_answer", "form_view", "household_entered", "interpret", "next_questions", "question_for", "set_fact",
           "unset_fact", "why_not", "Reason", "reasons", "rule_label", "fact_answer"]

_YES = {"是", "y", "yes", "true", "对", "有"}
_NO = {"否", "n", "no", "false", "不", "没有"}
#: Answers that end the interview.
QUIT = {"q", "quit", "退出"}


@dataclass(frozen=True)
class Problem:
    """Why an answer is not accepted. ``code`` picks the words (templates/_service.j2 for the pages); ``detail``
    carries the validator's own message for ``invalid``. ``str()`` is the terminal's English line."""

    code: str  # count | yes_no | choice | whole_number | number | invalid
    choices: tuple[Choice, ...] = ()
    detail: str = ""

    def __str__(self) -> str:
        listed = ", ".join(f"{i} {c.zh} ({c.en})" for i, c in enumerate(self.choices, 1))
        return {"count": "give how many, as a number (0 if none)", "yes_no": "answer 是/否 (y/n)",
                "choice": f"choose one of: {listed}", "whole_number": "give a whole number",
                "number": "give a number"}.get(self.code, self.detail)


def interpret(question: Question, text: str, kb: KB) -> tuple[Any, Problem | None]:
    """The answer as a value for the file, or the reason it is not accepted (the vocabulary gives its type)."""
    answer = text.strip()
    _, _, key = split_fact_path(question.fact)
    if key in ("members", "entities"):
        n = whole_number(answer)  # 3, 3人, 三口人
        if n is None or n > 30:
            return None, Problem("count")
        return [{} for _ in range(n)], None
    codes = [c.code for c in question.choices]
    if codes == ["true", "false"]:
        low = answer.lower()
        if low in _YES or answer == "1":
            return True, None
        if low in _NO or answer == "2":
            return False, None
        return None, Problem("yes_no")
    if question.choices:
        if answer.isdigit() and 1 <= int(answer) <= len(question.choices):
            return question.choices[int(answer) - 1].code, None
        for c in question.choices:
            if answer.lower() in (c.code.lower(), c.zh, c.en.lower()):
                return c.code, None
        return None, Problem("choice", tuple(question.choices))
    fact = kb.fact_labels.get(key)
    kind = fact.type if fact else "text"
    if kind == "integer":
        n = whole_number(answer)  # 58, 58岁, 五十八
        if n is None:
            return None, Problem("whole_number")
        return n, None
    if kind == "number":
        try:
            return float(answer), None
        except ValueError:
            return None, Problem("number")
    return answer, None


def set_fact(raw: dict[str, Any], path: str, value: Any) -> None:
    """Set a fact (``age``, ``members[1].age``, ``site.name``) in a raw record, making the mappings it needs."""
    collection, index, key = split_fact_path(path)
    target = raw if collection is None or index is None else raw[collection][index]
    *heads, last = key.split(".")
    for h in heads:
        target = target.setdefault(h, {})
    target[last] = value


def unset_fact(raw: dict[str, Any], path: str) -> None:
    """Forget a fact (it is unknown again): the side panel's "not known" for an answer given before."""
    collection, index, key = split_fact_path(path)
    target: Any = raw if collection is None or index is None else raw[collection][index]
    *heads, last = key.split(".")
    for h in heads:
        target = target.get(h, {})
    if isinstance(target, dict):
        target.pop(last, None)


def question_for(kb: KB, path: str, names: list[str | None] | None = None) -> Question:
    """The question that sets a fact (``members[2].disability``), with its choices, as the report would ask it."""
    collection, index, key = split_fact_path(path)
    label = kb.fact_labels[key]
    if label.labels:
        choices = [Choice(code=code, zh=zh, en=code.replace("_", " ")) for code, zh in label.labels.items()]
    elif label.type == "boolean":
        choices = [Choice(code="true", zh="是", en="yes"), Choice(code="false", zh="否", en="no")]
    else:
        choices = []
    known = names or []
    about = known[index] if collection == "members" and index is not None and index < len(known) else None
    return Question(fact=path, member=index if collection == "members" else None,
                    entity=index if collection == "entities" else None, about=about,
                    number=None if index is None else index + 1, zh=label.zh, en=label.en, choices=choices, decides=0)


def next_questions(kb: KB, raw: dict[str, Any], report: Report) -> list[Question]:
    """The questions to ask, in order: each member's age first (every member without an age or a birth date),
    then the report's, most decisive first."""
    members = raw.get("members")
    ages = []
    if isinstance(members, list):
        names = [m.get("name") if isinstance(m, dict) else None for m in members]
        ages = [question_for(kb, f"members[{i}].age", names) for i, m in enumerate(members)
                if isinstance(m, dict) and "age" not in m and "birth_date" not in m]
    asked = {q.fact for q in ages}
    return ages + [q for q in report.questions if q.fact not in asked]


@dataclass(frozen=True)
class Answer:
    """A fact given so far, for the side panel: its question (to change it) and its value as given."""

    question: Question
    value: Any

    @property
    def fact(self) -> str:
        return self.question.fact

    @property
    def code(self) -> str:
        """The value as the question's choices name it (true/false, a code), else as written."""
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    def words(self, lang: str) -> str:
        """The value in the page's language: the choice's label, else as written."""
        choice = next((c for c in self.question.choices if c.code == self.code), None)
        return getattr(choice, lang) if choice is not None else self.code


#: identity and structure, never asked: not in the side panel as answers
_NOT_ANSWERS = {"id", "name", "members", "entities", "owners", "jurisdiction", "site"}


def answers_so_far(kb: KB, raw: dict[str, Any]) -> list[Answer]:
    """Every fact given so far (household's, then each member's and business's), each with the question that
    changes it; a fact the vocabulary does not know (none reach here past the parser) is left out."""
    out: list[Answer] = []
    members = raw.get("members") if isinstance(raw.get("members"), list) else []
    names = [m.get("name") if isinstance(m, dict) else None for m in members or []]

    def walk(record: dict[str, Any], prefix: str, skip: set[str]) -> None:
        for key, value in record.items():
            if key in skip:
                continue
            if isinstance(value, dict):
                for sub, v in value.items():
                    if f"{key}.{sub}" in kb.fact_labels and not isinstance(v, dict | list):
                        out.append(Answer(question_for(kb, f"{prefix}{key}.{sub}", names), v))
            elif key in kb.fact_labels and not isinstance(value, list):
                out.append(Answer(question_for(kb, prefix + key, names), value))

    walk(raw, "", _NOT_ANSWERS)
    for i, m in enumerate(members or []):
        if isinstance(m, dict):
            walk(m, f"members[{i}].", {"name", "id_number"})
    for i, e in enumerate(raw.get("entities") or []):
        if isinstance(e, dict):
            walk(e, f"entities[{i}].", {"id", "name", "owners"})
    return out


def apply_answers(raw: dict[str, Any], asked: dict[str, Question], given: list[tuple[str, str]], kb: KB,
                  source: str = "interview") -> tuple[dict[str, Any], list[str], dict[str, Problem]]:
    """A batch of answers (fact, text), as the interview page sends them, applied to the record answered so
    far: an answer to a question not asked is ignored; a blank one is skipped (asked again later, never
    guessed); one that is not accepted, or would leave the record invalid, is kept out with its problem.
    The record with every accepted answer (the one given is unchanged), the facts skipped, the problems."""
    skipped: list[str] = []
    problems: dict[str, Problem] = {}
    for fact, text in given:
        if not fact or fact not in asked:
            continue
        if not text.strip():
            skipped.append(fact)
            continue
        value, problem = interpret(asked[fact], text, kb)
        if problem is None:
            candidate = copy.deepcopy(raw)
            set_fact(candidate, fact, value)
            try:
                parse_record(candidate, Household, source, kb)
                raw = candidate
            except InputError as exc:
                problem = Problem("invalid", detail=exc.message)
        if problem is not None:
            problems[fact] = problem
    return raw, skipped, problems


class Interview:
    """One household's interview: the raw record as answered so far, and what was answered."""

    def __init__(self, evaluator: Evaluator, path: str, as_of: dt.date | None, encoding: str | None = None):
        self.evaluator, self.path, self.as_of = evaluator, path, as_of
        records = read_records(path, encoding)
        if len(records.items) != 1:
            raise InputError(records.source, "-", f"--ask interviews one household; the file holds "
                                                   f"{len(records.items)} (check a batch without --ask)")
        raw = records.items[0]
        if not isinstance(raw, dict):
            raise InputError(records.source, "-", "expected a mapping of household facts")
        self.source = records.source
        self.raw: dict[str, Any] = raw
        self.answers: list[tuple[str, Any]] = []
        self.skipped: set[str] = set()
        self.queue: list[Question] = []  # a sub-interview's questions, asked before the report's

    def report(self) -> Report:
        record = parse_record(self.raw, Household, self.source, self.evaluator.kb)
        try:
            return self.evaluator.determine(record, self.as_of)
        except FieldError as exc:
            raise InputError(self.source, exc.field, exc.message) from None

    def next_question(self, report: Report) -> Question | None:
        while self.queue:
            q = self.queue[0]
            if q.fact not in self.skipped:
                return q
            self.queue.pop(0)
        # Each member's age first (a member given without one), then the report's questions.
        return next((q for q in next_questions(self.evaluator.kb, self.raw, report) if q.fact not in self.skipped),
                    None)

    def answer(self, question: Question, text: str) -> str | None:
        """Apply an answer; the reason it is not accepted, or None. The record is unchanged on a bad answer."""
        value, problem = interpret(question, text, self.evaluator.kb)
        if problem:
            return str(problem)
        candidate = copy.deepcopy(self.raw)
        set_fact(candidate, question.fact, value)
        try:
            parse_record(candidate, Household, self.source, self.evaluator.kb)
        except InputError as exc:
            return exc.message
        self.raw = candidate
        self.answers.append((question.fact, value))
        self.skipped.add(question.fact)
        if question.fact == "members":
            # Each new member: age first, then only the questions that follow from it (the gates).
            label = self.evaluator.kb.fact_labels["age"]
            self.queue += [Question(fact=f"members[{i}].age", member=i, number=i + 1, zh=label.zh, en=label.en,
                                    decides=0) for i in range(len(value))]
        return None

    def save(self, out: Path) -> None:
        """The household with every answer, keeping the original file's order and comments where it can."""
        from ruamel.yaml import YAML

        yaml = YAML()
        yaml.indent(mapping=2, sequence=4, offset=2)
        original: Any = None
        if self.path != "-" and not self.path.endswith(".json"):
            try:
                original = yaml.load(Path(self.path).read_text(encoding="utf-8"))
            except Exception:  # noqa: BLE001 - not round-trippable (e.g. GBK): write the record afresh
                original = None
        if isinstance(original, dict):
            for fact, value in self.answers:
                set_fact(original, fact, value)
            data = original
        else:
            data = self.raw
        with out.open("w", encoding="utf-8") as fh:
            yaml.dump(data, fh)


# --- the caseworker's window: the household form, and one answer changed from the side panel ------------------

@dataclass(frozen=True)
class Column:
    """A fact asked in a member's or business's row of the form: its short header (the ledger's own, from
    policies/columns.yaml) and its question, whose choices are the form's options."""

    fact: str
    zh: str
    en: str
    question: Question


@dataclass(frozen=True)
class FormView:
    """What the household form shows: the values entered so far, the rows, and the choices from the knowledge
    base (its sites, the counties its documents serve, the categories and the member facts)."""

    values: Mapping[str, str]
    members: int
    entities: int
    sites: list[tuple[str, str, str]]  # id, name, English name
    jurisdictions: list[tuple[str, str, str]]  # id, name, English name
    category: Question
    member_columns: list[Column]
    entity_columns: list[Column]


def form_view(kb: KB, values: Mapping[str, str], members: int | None = None, entities: int | None = None) -> FormView:
    """The household form: ``members`` rows for members (three to start, or as many as were entered) and
    ``entities`` for businesses (one to start)."""
    spec = spec_for(kb)

    def rows(key: str, start: int) -> int:
        return min(whole_number(str(values.get(key, "")) or "x") or start, MAX_ROWS)

    def column(level: str, fact: str) -> Column:
        q = question_for(kb, fact)
        return Column(fact=fact, zh=spec.label(level, fact), en=q.en, question=q)

    counties = [j for j in kb.jurisdictions.values() if j.level not in ("country", "province", "city")]
    return FormView(
        values=values, members=members if members is not None else rows("members_n", 3),
        entities=entities if entities is not None else rows("entities_n", 1),
        sites=[(s.id, s.name, s.name_en or s.name) for s in kb.sites.values()],
        jurisdictions=[(j.id, j.name, j.name_en) for j in counties],
        category=question_for(kb, "category"),
        member_columns=[column("member", f) for f in member_row_facts(kb)],
        entity_columns=[column("entity", f) for f in entity_row_facts(kb)])


def household_entered(kb: KB, form: Mapping[str, str]) -> tuple[dict[str, Any], list[Any]]:
    """What the caseworker entered: the pasted or uploaded text if any, else the household form."""
    if str(form.get("text", "")).strip() or "members_n" not in form:
        return from_text(kb, str(form.get("text", "")))
    return from_form(kb, form)


def change_answer(kb: KB, raw: dict[str, Any], fact: str, text: str) -> tuple[dict[str, Any], dict[str, Problem]]:
    """One answer given before, changed from the side panel (a blank one makes the fact unknown again): the record
    with the change, or unchanged with the problem beside the fact."""
    try:
        collection, index, key = split_fact_path(fact)
        items = raw.get(collection) if collection else None
        if key not in kb.fact_labels or (collection is not None and (
                not isinstance(items, list) or index is None or not 0 <= index < len(items))):
            raise ValueError(fact)
    except ValueError:
        return raw, {fact: Problem("invalid", detail=f"no fact {fact[:100]!r} to change")}
    candidate = copy.deepcopy(raw)
    if not text.strip():
        unset_fact(candidate, fact)
        return candidate, {}
    members = raw.get("members") if isinstance(raw.get("members"), list) else []
    names = [m.get("name") if isinstance(m, dict) else None for m in members or []]
    value, problem = interpret(question_for(kb, fact, names), text, kb)
    if problem is not None:
        return raw, {fact: problem}
    set_fact(candidate, fact, value)
    try:
        parse_record(candidate, Household, "interview", kb)
    except InputError as exc:
        return raw, {fact: Problem("invalid", detail=exc.message)}
    return candidate, {}


_FAILED = re.compile(r"^(?:(members|entities)\[(\d+)\]\.)?([\w.]+) (?:=|!=|<|<=|>|>=|in) .+? \(is (.+)\)$")
_NOT_ASKED = re.compile(r"^(?:(members|entities)\[(\d+)\]\.)?([\w.]+) is not asked \(.*?\): (.+)$")


@dataclass(frozen=True)
class Reason:
    """A test that fails, in the household's words: the answer that fails it, or, for a question not asked of
    this person, the answer that keeps it from being asked (``gate``). ``text`` is the engine's own line, for a
    line of another shape (shown to English readers and to the technical reader only)."""

    text: str
    answer: Answer | None = None
    gate: Answer | None = None
    member: int | None = None


def reasons(kb: KB, report: Report, failed: list[str]) -> list[Reason]:
    """The engine's failed tests (``Determination.failed``), each as the answer behind it."""
    out = []
    for text in failed:
        gate = None
        m = _NOT_ASKED.match(text)
        if m is not None:
            gate = _answer(kb, report, m.group(4))
            path = f"{m.group(1)}[{m.group(2)}].{m.group(3)}" if m.group(1) else m.group(3)
            asked = _question(kb, report, path)
            member = int(m.group(2)) if m.group(1) == "members" else None
            out.append(Reason(text, Answer(asked, None) if asked else None, gate, member))
            continue
        answer = _answer(kb, report, text)
        f = _FAILED.match(text)
        member = int(f.group(2)) if f is not None and f.group(1) == "members" else None
        out.append(Reason(text, answer, None, member))
    return out


def _question(kb: KB, report: Report, path: str) -> Question | None:
    collection, index, key = split_fact_path(path)
    if key in kb.fact_labels:
        return question_for(kb, path, report.member_names)
    concept = kb.concepts.get(key)
    if concept is None:
        return None
    return Question(fact=path, member=index if collection == "members" else None,
                    entity=index if collection == "entities" else None,
                    about=report.member_names[index] if collection == "members" and index is not None
                    and index < len(report.member_names) else None,
                    number=None if index is None else index + 1, zh=concept.zh, en=concept.en,
                    choices=[Choice(code="true", zh="是", en="yes"), Choice(code="false", zh="否", en="no")], decides=0)


def _answer(kb: KB, report: Report, text: str) -> Answer | None:
    f = _FAILED.match(text)
    if f is None:
        return None
    path = f"{f.group(1)}[{f.group(2)}].{f.group(3)}" if f.group(1) else f.group(3)
    q = _question(kb, report, path)
    return Answer(q, _shown_value(f.group(4))) if q is not None else None


def why_not(kb: KB, report: Report, d: Determination) -> list[Answer]:
    """The known answers that rule a measure out, in the household's words, for the member each concerns: a
    household-wide answer always; of a member's, only those of the member(s) nearest to it (fewest tests failed,
    a test not asked of them counted), so "why not" names the wife for a nursing subsidy, not the first member.
    A line the engine wrote in another shape is left out (the why page shows the whole trace)."""
    lines = reasons(kb, report, d.failed)
    per_member: dict[int, int] = {}
    for r in lines:
        if r.member is not None:
            per_member[r.member] = per_member.get(r.member, 0) + 1
    fewest = min(per_member.values()) if per_member else 0
    return [r.answer for r in lines if r.answer is not None and r.gate is None
            and (r.member is None or per_member.get(r.member) == fewest)]
def _shown_value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def rule_label(kb: KB, name: str, lang: str) -> str:
    """A concept's or measure's name as people read it (its zh/en in the knowledge base), else its id."""
    item = kb.concepts.get(name) or kb.measures.get(name)
    return str(getattr(item, lang, "") or name) if item is not None else name


def fact_answer(kb: KB, path: str, value: Any, names: list[str | None]) -> Answer | None:
    """A fact of a record by its path (``members[2].unsupported_child``) with its value, as the side panel shows
    it; None for a path that is no fact of the vocabulary (an id, a name, the site)."""
    try:
        _, _, key = split_fact_path(path)
    except ValueError:
        return None
    if key not in kb.fact_labels:
        return None
    return Answer(question_for(kb, path, names), value)
