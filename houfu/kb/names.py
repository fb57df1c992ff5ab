"""One "did you mean" for every name houfu does not know: an id, a field, a department, a site, a spelling.

The policy, in one place (every caller uses it; none keeps its own cutoff):

- a known name is offered when its similarity to the name given is at least ``CUTOFF`` (0.5): difflib's ratio,
  twice the characters the two spellings share, in order, over their total length. Half is low enough for the
  short Chinese names people type (人社 for 县人社局 is 0.67, 定南 for 定南县 0.8) and for a typo in a field or an id
  (site_typ for site_type is 0.94), and high enough that a name sharing a character or two is not offered
  (帮扶责任人 for 家庭人口 is 0.22);
- the comparison ignores case and surrounding spaces, and the name offered is the known name as written;
- the closest first; names equally close keep the order the caller gave them (its own order: the vocabulary's,
  the registry's), and a name listed twice is offered once;
- at most ``n``: one where a single value is expected (a field, a site, a jurisdiction), a few where the person
  is choosing among ids.

A suggestion is only ever words in a message: nothing is read as the name suggested until a person writes it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["CUTOFF", "did_you_mean", "suggest"]

#: The least similarity (difflib's ratio, 0 to 1) at which a known name is offered.
CUTOFF = 0.5


def suggest(name: str, known: Iterable[str], n: int = 1) -> list[str]:
    """The known names closest to ``name`` (at most ``n``, the closest first), under the policy above."""
    given = name.strip().casefold()
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(given)
    scored: list[tuple[float, int, str]] = []
    seen: set[str] = set()
    for order, candidate in enumerate(known):
        if candidate in seen:
            continue
        seen.add(candidate)
        matcher.set_seq1(candidate.strip().casefold())
        # The quick ratios are upper bounds of the ratio: a candidate that cannot reach the cutoff costs little.
        if matcher.real_quick_ratio() >= CUTOFF and matcher.quick_ratio() >= CUTOFF:
            ratio = matcher.ratio()
            if ratio >= CUTOFF:
                scored.append((-ratio, order, candidate))
    return [candidate for _, _, candidate in sorted(scored)[:max(n, 0)]]


def did_you_mean(found: Iterable[str], quoted: bool = True) -> str:
    """The English tail of a message for the names ``suggest`` found ("; did you mean 'x'?"), or "" for none.

    ``quoted`` writes each name as a Python literal ('site_type'); ids are written bare (dn.4.3.training)."""
    names = [repr(f) if quoted else f for f in found]
    return f"; did you mean {', '.join(names)}?" if names else ""
