"""``houfu check --ask``: ask for missing facts, most decisive first."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import click

from houfu.engine.evaluator import Evaluator
from houfu.engine.logic import split_fact_path
from houfu.engine.results import Report
from houfu.kb.facts import Household
from houfu.kb.loader import FieldError

from . import render
from .briefs import question
from .inputs import InputError, parse_record, read_records

__all__ = ["interview"]


def _set(raw: dict[str, Any], path: str, value: Any) -> None:
    collection, index, key = split_fact_path(path)
    target = raw if collection is None or index is None else raw[collection][index]
    *heads, last = key.split(".")
    for h in heads:
        target = target.setdefault(h, {})
    target[last] = value


def _coerce(text: str) -> Any:
    low = text.strip().lower()
    if low in ("y", "yes", "true", "是"):
        return True
    if low in ("n", "no", "false", "否"):
        return False
    if low == "[]":
        return []
    try:
        return int(low)
    except ValueError:
        return text.strip()


def _determine(evaluator: Evaluator, raw: dict[str, Any], path: str, as_of: dt.date | None) -> Report:
    record = parse_record(raw, Household, path, evaluator.kb)
    try:
        return evaluator.determine(record, as_of)
    except FieldError as exc:
        raise InputError(path, exc.field, exc.message) from None


def interview(evaluator: Evaluator, path: str, as_of: dt.date | None) -> None:
    """Ask, re-decide, repeat; a rejected answer is undone whole (a deep copy, members included)."""
    kb = evaluator.kb
    raw = read_records(path).items[0]
    if not isinstance(raw, dict):
        raise InputError(path, "-", "expected a mapping of household facts")
    asked: set[str] = set()
    while True:
        report = _determine(evaluator, raw, path, as_of)
        todo = [q for q in report.questions if q.fact not in asked]
        if not todo:
            break
        q = todo[0]
        names = report.member_names
        answer = click.prompt(f"{q.fact}? {question(kb, q.fact, names, 'zh')} / {question(kb, q.fact, names, 'en')}\n"
                              f"  (decides {q.decides}; y/n, a number or a word; blank skips, q stops)",
                              default="", show_default=False)
        if answer.strip().lower() == "q":
            break
        asked.add(q.fact)
        if not answer.strip():
            continue
        previous = copy.deepcopy(raw)
        _set(raw, q.fact, _coerce(answer))
        try:
            parse_record(raw, Household, path, kb)
        except InputError as exc:
            click.echo(f"  not accepted: {exc.message}", err=True)
            raw = previous
            asked.discard(q.fact)
    click.echo(render.determination_text(report))
