"""``houfu check --ask``: ask for missing facts, most decisive first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from houfu.kb.facts import Household
from houfu.kb.loader import KB

from . import render
from .briefs import question
from houfu.engine.evaluate import determine
from .inputs import InputError, parse_record, read_records
from houfu.engine.logic import split_fact_path


def _set(raw: dict[str, Any], path: str, value: Any) -> None:
    member, key = split_fact_path(path)
    target = raw if member is None else raw["members"][member]
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


def interview(kb: KB, path: str, as_of: dt.date | None) -> None:
    raw = read_records(path)[0]
    asked: set[str] = set()
    while True:
        try:
            report = determine(kb, parse_record(raw, Household, path), as_of, source=path)
        except InputError as exc:
            raise click.ClickException(str(exc)) from None
        todo = [q for q in report["questions"] if q["fact"] not in asked]
        if not todo:
            break
        q = todo[0]
        names = report["member_names"]
        answer = click.prompt(f"{q['fact']}? {question(kb, q['fact'], names, 'zh')} / {question(kb, q['fact'], names, 'en')}\n"
                              f"  (decides {q['decides']}; y/n, a number or a word; blank skips, q stops)",
                              default="", show_default=False)
        if answer.strip().lower() == "q":
            break
        asked.add(q["fact"])
        if not answer.strip():
            continue
        previous = dict(raw)
        _set(raw, q["fact"], _coerce(answer))
        try:
            parse_record(raw, Household, path)
        except InputError as exc:
            click.echo(f"  not accepted: {exc.message}", err=True)
            raw = previous
            asked.discard(q["fact"])
    click.echo(render.determination_text(report))
