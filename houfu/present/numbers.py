"""Numbers and member references as people read them, shared by the terminal text, letters and briefs."""

from __future__ import annotations

import re

__all__ = ["MEMBER_REF", "for_people"]


def for_people(v: float | int) -> str:
    """A number as people write it: 10,000 and 9,360.5, never 10000.0 or 1e+04."""
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{int(v):,}"


#: A member or business named by path in an engine's reason: members[0]. / entities[1].
MEMBER_REF = re.compile(r"(members|entities)\[(\d+)\]\.")
