"""Decide every record of an input file; bad records are reported and every input accounted for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from houfu.engine.evaluator import EngineKind, Evaluator
from houfu.engine.results import EngineFailure, InputWarning, Report
from houfu.io.inputs import InputError, parse_file
from houfu.kb.facts import Household, Site
from houfu.kb.loader import FieldError

__all__ = ["Batch", "determine_file"]

R = TypeVar("R", Household, Site)
Progress = Callable[[list[tuple[str, R]]], Iterable[tuple[str, R]]]


@dataclass
class Batch:
    """records = evaluated + rejected, always."""

    records: int
    reports: list[Report] = field(default_factory=list)
    inputs: list[Household | Site] = field(default_factory=list)  # the accepted record of each report
    received: list[Any] = field(default_factory=list)  # each report's item as the file held it
    errors: list[InputError] = field(default_factory=list)
    warnings: list[InputError] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return len(self.reports)

    @property
    def rejected(self) -> int:
        return len(self.errors)


def determine_records(evaluator: Evaluator, records: Iterable[tuple[str, R]], as_of: dt.date | None,
                      engine: EngineKind | None = None) -> Iterator[tuple[R, Report | InputError]]:
    """Each record with its report, or the error that names its bad field, in turn."""
    for where, record in records:
        try:
            yield record, evaluator.determine(record, as_of, engine)
        except FieldError as exc:
            yield record, InputError(where, exc.field, exc.message)
        except EngineFailure as exc:  # stopped at the engine boundary: this record, not the batch
            yield record, InputError(where, "-", str(exc))


def determine_file(evaluator: Evaluator, path: str, model: type[R], as_of: dt.date | None = None,
                   progress: Progress[R] | None = None, engine: EngineKind | None = None,
                   encoding: str | None = None) -> Batch:
    """Every record of a file decided; ``progress`` may wrap the parsed records (e.g. a progress bar)."""
    good, rejected, warnings, received, report_warnings = parse_file(path, model, evaluator.kb, encoding)
    batch = Batch(records=len(good) + len(rejected), errors=rejected, warnings=warnings)
    for record, out in determine_records(evaluator, progress(good) if progress else good, as_of, engine):
        if isinstance(out, Report):
            extra: list[InputWarning] = report_warnings.get(str(record.id), [])
            report: Report = out
            if extra:  # characters removed from its names, said on its own report
                report = report.model_copy(update={"warnings": extra + report.warnings})
            batch.reports.append(report)
            batch.inputs.append(record)
            batch.received.append(received[str(record.id)])
        else:
            batch.errors.append(out)
    return batch
