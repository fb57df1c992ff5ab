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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from houfu.engine.evaluator import Evaluator
from houfu.engine.logic import split_fact_path
from houfu.engine.results import Choice, Question, Report
from houfu.io.inputs import InputError, parse_record, read_records
from houfu.kb.facts import Household
from houfu.kb.loader import KB, FieldError

__all__ = ["QUIT", "Interview", "Problem", "apply_answers", "interpret", "set_fact"]

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
        if not answer.isdigit():
            return None, Problem("count")
        return [{} for _ in range(int(answer))], None
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
        try:
            return int(answer), None
        except ValueError:
            return None, Problem("whole_number")
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
        return next((q for q in report.questions if q.fact not in self.skipped), None)

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
