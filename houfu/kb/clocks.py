"""Clocks for household cases: the text's own (a measure's ``clock``), or a county's own rule from a separate file.

Neither bundled text sets a deadline for a household's case (定南 2023 and 十堰 2019 say 及时, with no number of
days), so the policy data carries no clock. A county that keeps one by its own rule (a meeting's decision, its own
work plan) writes it in a clocks file that says whose rule it is (``whose``) and where it is written (``basis``);
every worklist row and determination timed by it says so. A county rule for a measure whose text sets a clock is
refused: the text's clock stands.

    whose: 示例县乡村振兴局            # whose rule it is (required)
    basis: 示例县2026年第3次调度会议纪要  # where the county wrote it (required)
    example: true                    # an illustration, not any county's real rule
    clocks:
      - measure: dn_c3_1_m1
        days: 20
        count: working               # natural (日) or working (工作日, with 调休)
        runs_from: listed            # the day the case is put on the department's worklist
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import Field, ValidationError

from houfu.kb.loader import KB, FieldError
from houfu.kb.models import Clock, Strict

__all__ = ["CaseClock", "CountyClock", "CountyClocks", "case_clocks", "load_county_clocks"]


class CountyClock(Clock):
    """One county rule: the measure it times and its clock."""

    measure: str = Field(description="a measure's id, or a list's (policies/lists.yaml: zero_employment) for the "
                                     "动态清零 tracker")
    note: str | None = None


class CountyClocks(Strict):
    """A county's own clocks for household cases, with whose rule they are."""

    whose: str = Field(description="the body whose rule it is (示例县乡村振兴局): shown beside every due date it sets")
    basis: str = Field(description="where the county wrote the rule (a meeting's minutes, a work plan)")
    example: bool = Field(default=False, description="an illustration shipped with houfu, not any county's rule")
    note: str | None = None
    clocks: list[CountyClock]


@dataclass(frozen=True)
class CaseClock:
    """A measure's clock and whose it is: the text's (its clause) or a county's (its rule and basis)."""

    measure: str
    clock: Clock
    source: str  # "text" or "county"
    whose: str  # the document and clause (text), or the county body (county)
    basis: str  # the words that set it (text), or where the county wrote it (county)
    example: bool = False

    def describe(self) -> str:
        """The clock in one line, saying whose it is (worklists, reports)."""
        c = self.clock
        span = c.date.isoformat() if c.date is not None else \
            f"{c.days} {'working days' if c.count.value == 'working' else 'days'} from {c.runs_from.value}"
        own = "the text" if self.source == "text" else "a county's own rule, not the text's"
        return f"{span} ({own}: {self.whose}; {self.basis}{'; an example' if self.example else ''})"


def load_county_clocks(kb: KB, path: Path) -> CountyClocks:
    """Read a county's clocks file; a bad one raises FieldError naming the field (the caller adds the file)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FieldError("-", f"not a readable YAML file ({type(exc).__name__})") from None
    try:
        got = CountyClocks.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FieldError(".".join(str(x) for x in first["loc"]) or "-", first["msg"]) from None
    seen: set[str] = set()
    for i, c in enumerate(got.clocks):
        m = kb.measures.get(c.measure)
        if m is None and c.measure in {item.id for item in kb.lists}:
            seen.add(c.measure)  # a list of the report (policies/lists.yaml): the 动态清零 tracker's clock
            continue
        if m is None:
            raise FieldError(f"clocks.{i}.measure", f"no measure or list {c.measure!r} in the knowledge base")
        if m.clock is not None:
            raise FieldError(f"clocks.{i}.measure", f"the text sets {c.measure}'s clock ({m.clock.quote}); a county "
                                                    "rule does not replace it")
        if c.measure in seen:
            raise FieldError(f"clocks.{i}.measure", f"{c.measure} has a clock already in this file")
        seen.add(c.measure)
    return got


def case_clocks(kb: KB, county: CountyClocks | None = None) -> dict[str, CaseClock]:
    """Every measure's clock: the text's where it sets one, else the county's rule if it gives one."""
    out: dict[str, CaseClock] = {}
    for mid, m in kb.measures.items():
        if m.clock is not None:
            doc = kb.documents[kb.clause_doc[kb.measure_clause[mid]]].doc
            out[mid] = CaseClock(mid, m.clock, "text", f"{doc.short_name} {m.clock.clause}", m.clock.quote)
    for c in county.clocks if county is not None else []:
        out.setdefault(c.measure, CaseClock(c.measure, c, "county", county.whose if county else "",
                                            county.basis if county else "", county.example if county else False))
    return out
