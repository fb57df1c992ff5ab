"""``houfu check --ask`` on the terminal: the click prompt loop over the pure interview (houfu.present.interview).

Prompts go to stderr, the result to stdout. Ctrl-D or ``q`` ends cleanly and says how many questions were
answered; ``--save FILE`` then writes the household with every answer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from houfu.engine.evaluator import Evaluator
from houfu.engine.results import Question
from houfu.present import render
from houfu.present.interview import QUIT, Interview
from houfu.present.letters import action_summary

__all__ = ["interview"]


def _prompt(question: Question, number: int) -> str:
    who = ""
    if question.number is not None:
        who = f"{question.about or ('第' + str(question.number) + '位')}: "
    lines = [f"[{number}] {who}{question.zh}", f"    {question.en}"]
    if question.choices and [c.code for c in question.choices] != ["true", "false"]:
        lines.append("    " + "  ".join(f"{i} {c.zh} ({c.en})" for i, c in enumerate(question.choices, 1)))
    elif question.choices:
        lines.append("    是 / 否 (y/n)")
    lines.append("    (blank skips, q ends)")
    return "\n".join(lines) + "\n"


def interview(evaluator: Evaluator, path: str, as_of: dt.date | None, save: Path | None = None,
              encoding: str | None = None, lang: str = "zh") -> None:
    """Run the interview on the terminal: prompts on stderr, the determination on stdout, led by the action
    summary in ``lang`` as ``houfu check``, the page and the letter give it (``action_summary``)."""
    session = Interview(evaluator, path, as_of, encoding)
    report = session.report()
    ended = False
    while not ended:
        question = session.next_question(report)
        if question is None:
            break
        while True:
            try:
                text = click.prompt(_prompt(question, len(session.answers) + 1), default="", show_default=False,
                                    err=True, prompt_suffix="> ")
            except click.exceptions.Abort:  # Ctrl-D (or Ctrl-C): end cleanly, keep what was answered
                click.echo("", err=True)
                ended = True
                break
            if text.strip().lower() in QUIT:
                ended = True
                break
            if not text.strip():
                session.skipped.add(question.fact)
                break
            problem = session.answer(question, text)
            if problem is None:
                break
            click.echo(f"    not accepted: {problem}", err=True)
        report = session.report()
    summary = action_summary(evaluator.kb, report, lang) if report.entity == "household" else None
    click.echo(render.determination_text(report, summary=summary))
    click.echo(f"{len(session.answers)} question(s) answered", err=True)
    if save is not None:
        session.save(save)
        click.echo(f"saved to {save}", err=True)
