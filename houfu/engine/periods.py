"""Periodic quotas (每年不少于2次, 每季度不少于1次) in time: which periods a document's force covers, and each judged.

A quota's periods are calendar years or quarters, clipped to the document's force (``in_force_from``,
``in_force_until``). Every period from the one the document came into force in up to the one under way on
the as-of date is listed. A period the document covers only in part (its first or its last) is read as the
quota's data says (``quota.partial``: not judged, or pro rata), never silently as a whole one.

One plan (``quota_plan``) serves both the single-record path (``judge``) and the column evaluator
(``engine.vector``), so the periods, their requirements and the overall status cannot drift apart:

* ``violated`` if any complete, judged period was missed (each one is named);
* else ``undetermined`` if the count of some complete, judged period is unknown (the count is asked);
* else ``met`` if there is at least one complete, judged period (all met);
* else ``not_due``: nothing judged has ended yet (the period under way, or a first partial period not judged).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from houfu.kb.models import Clock, DayCount, Document, Quota

from .results import PeriodCheck, Status

__all__ = ["CalendarError", "Period", "add_days", "due_on", "is_working_day", "judge", "overdue", "period_of",
           "quota_plan"]


@dataclass(frozen=True)
class Period:
    """One calendar period of a quota, as far as the document covers it."""

    label: str  # 2025, 2025-Q4
    first: dt.date  # the period's own first and last day
    last: dt.date
    start: dt.date  # the first and last day the document covers
    end: dt.date
    complete: bool  # it has ended by the as-of date
    required: float | None  # None: a partial period the quota's reading does not judge
    reading: str | None = None  # why a partial period is read as it is (quota.partial.why)

    @property
    def partial(self) -> bool:
        return self.start != self.first or self.end != self.last

    @property
    def judged(self) -> bool:
        return self.required is not None


def period_of(kind: str, day: dt.date) -> tuple[str, dt.date, dt.date]:
    """The calendar year or quarter holding ``day``: its label, first and last day."""
    if kind == "year":
        return str(day.year), dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    q = (day.month - 1) // 3 + 1
    first = dt.date(day.year, 3 * q - 2, 1)
    after = dt.date(day.year + 1, 1, 1) if q == 4 else dt.date(day.year, 3 * q + 1, 1)
    return f"{day.year}-Q{q}", first, after - dt.timedelta(days=1)


def quota_plan(quota: Quota, doc: Document, required: float, as_of: dt.date) -> list[Period]:
    """The quota's periods from the one the document came into force in to the one under way on ``as_of`` (or
    the last it is in force in), each clipped to the document's force, with what each requires."""
    out: list[Period] = []
    until = min(as_of, doc.in_force_until) if doc.in_force_until is not None else as_of
    day = doc.in_force_from
    while day <= until:
        label, first, last = period_of(quota.period, day)
        start = max(first, doc.in_force_from)
        end = min(last, doc.in_force_until) if doc.in_force_until is not None else last
        need: float | None = required
        reading = None
        if start != first or end != last:
            partial = quota.partial
            reading = partial.why if partial is not None else None
            if partial is None or partial.reading == "not_judged":
                need = None  # the text sets its number for a whole period; houfu invents none for a part
            else:  # pro rata: the share of the period in force, rounded up to whole events (counts are whole)
                share = Fraction(required) * ((end - start).days + 1) / ((last - first).days + 1)
                need = float(math.ceil(share))
        out.append(Period(label, first, last, start, end, end < as_of, need, reading))
        day = last + dt.timedelta(days=1)
    return out


def judge(plan: list[Period], counts: Mapping[str, int] | None) -> tuple[Status, list[PeriodCheck], bool]:
    """The quota's status for one site's counts (None: not recorded at all), every period checked, and whether
    the count is still to ask (undetermined)."""
    checks = []
    violated = unknown = ended = False
    for p in plan:
        n = None if counts is None else counts.get(p.label)
        status: Status | None = None
        still: float | None = None
        if p.required is not None and p.complete:
            ended = True
            status = Status.undetermined if n is None else Status.met if n >= p.required else Status.violated
            violated |= status is Status.violated
            unknown |= n is None
        elif p.required is not None:
            status = Status.not_due
            still = None if n is None else max(0.0, p.required - n)
        checks.append(PeriodCheck(period=p.label, start=p.start, end=p.end, complete=p.complete,
                                  partial=p.partial, judged=p.judged, status=status, count=n, required=p.required,
                                  still_needed=still, reading=p.reading))
    if violated:
        return Status.violated, checks, False
    if unknown:
        return Status.undetermined, checks, True
    return (Status.met if ended else Status.not_due), checks, False


# --- a household case's clock, on China's calendar ---------------------------------------------------------------


class CalendarError(ValueError):
    """A working day asked of a year the official calendar's data does not cover: never guessed."""


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day on China's official calendar (国务院办公厅 holiday notices): weekends and
    public holidays off, make-up working days (调休, a Saturday or Sunday worked) on. The calendar is the
    ``chinese-calendar`` package's data; a year it does not hold raises CalendarError."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:  # the package's word for a year without data
        raise CalendarError(f"{day.isoformat()}: the official calendar's data (chinese-calendar) does not cover "
                            f"{day.year}; working days past it are not guessed ({exc})") from None


def add_days(start: dt.date, days: int, count: DayCount) -> dt.date:
    """The day ``days`` natural or working days after ``start`` (``start`` is day 0). With working days, the
    last day is the ``days``-th working day after ``start``; 0 working days is ``start`` itself."""
    if count is DayCount.natural:
        return start + dt.timedelta(days=days)
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def due_on(clock: Clock, start: dt.date) -> dt.date:
    """The last day a case may be done on: the clock's fixed date, or its days counted from ``start`` (the day of
    the event it runs from)."""
    if clock.date is not None:
        return clock.date
    assert clock.days is not None  # Clock's validator: days or date
    return add_days(start, clock.days, clock.count)


def overdue(due: dt.date | None, as_of: dt.date) -> bool:
    """Past its last day on ``as_of`` (the last day itself is still in time)."""
    return due is not None and as_of > due
