"""houfu (后扶): post-relocation follow-up support policy as code.

The public API::

    import houfu

    kb = houfu.load()                                   # the installed knowledge base
    report = houfu.check({"id": "h1", "jurisdiction": "shiyan",
                          "members": [{"age": 30, "labor_capacity": "full"}]})
    for d in report.determinations:
        print(d.measure_id, d.status.value, d.clause_number)
    houfu.site({"id": "s1", "jurisdiction": "dingnan", "population": 900})
    houfu.explain(household, "sy.4.annual_training")
    houfu.owners("公益性岗位")
    houfu.duties("县人社局")

Each call takes a model or a plain dict and returns typed results (pydantic models for
check, site and explain).  ``kb=`` selects another loaded knowledge base.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from houfu._version import __version__ as __version__  # the package's version (houfu/_version.py)

# Nothing heavy at import: ``import houfu.kb.loader`` (or ``houfu check``) must not build every model and engine
# of the package first (issue 25, a cold check). The names below are imported on first use (PEP 562).
if TYPE_CHECKING:
    from houfu.engine.evaluator import EngineKind, Evaluator
    from houfu.engine.results import Determination, Explanation, Report, Status
    from houfu.kb.facts import Household, Site
    from houfu.kb.loader import KB, FieldError, KBError

__all__ = ["KB", "Determination", "EngineKind", "Explanation", "FieldError", "Household", "KBError", "Report",
           "Site", "Status", "check", "duties", "evaluator", "explain", "load", "owners", "responsibility_graph", "site"]

_LAZY = {"EngineKind": "houfu.engine.evaluator", "Evaluator": "houfu.engine.evaluator",
         "Determination": "houfu.engine.results", "Explanation": "houfu.engine.results",
         "Report": "houfu.engine.results", "Status": "houfu.engine.results", "Household": "houfu.kb.facts",
         "Site": "houfu.kb.facts", "KB": "houfu.kb.loader", "FieldError": "houfu.kb.loader",
         "KBError": "houfu.kb.loader"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'houfu' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def load(policies: str | None = None) -> KB:
    """The knowledge base: the installed one (loaded once), or the policy folder given."""
    from houfu.kb.loader import load as _load
    from houfu.kb.loader import load_default

    return _load(policies) if policies else load_default()


def evaluator(kb: KB | None = None) -> Evaluator:
    """The shared, thread-safe evaluator of a knowledge base."""
    from houfu.engine.evaluator import evaluator_for

    return evaluator_for(kb or load())


def _record(kind: str, record: Any, kb: KB | None) -> Any:
    """A mapping as the knowledge base's own input model (its vocabulary decides the fields)."""
    if not isinstance(record, Mapping):
        return record
    models = (kb or load()).models
    raw = dict(record)
    model = models.record_model(raw) if kind == "any" else models.of(kind)
    return model.model_validate(raw)


def check(household: Household | Mapping[str, Any], *, as_of: dt.date | None = None, kb: KB | None = None,
          engine: EngineKind | None = None) -> Report:
    """Every household measure of the documents in force: status, why, owners, amounts, missing facts."""
    return evaluator(kb).determine(_record("household", household, kb), as_of, engine)


def site(site: Site | Mapping[str, Any], *, as_of: dt.date | None = None, kb: KB | None = None,
         engine: EngineKind | None = None) -> Report:
    """Every site obligation of the documents in force: met, violated (with the gap), undetermined."""
    return evaluator(kb).determine(_record("site", site, kb), as_of, engine)


def explain(record: Household | Site | Mapping[str, Any], measure_id: str, *, as_of: dt.date | None = None,
            kb: KB | None = None) -> Explanation:
    """One measure for one household or site, with the rules that fired and each member's tests."""
    return evaluator(kb).explain(_record("any", record, kb), measure_id, as_of)


@lru_cache(maxsize=8)
def _graph(kb: KB) -> Any:
    from houfu.kb.graph import build_graph

    return build_graph(kb)


def responsibility_graph(*, kb: KB | None = None) -> Any:
    """The department-responsibility graph (networkx), built once per knowledge base."""
    return _graph(kb or load())


def owners(query: str, *, kb: KB | None = None) -> dict[str, Any]:
    """Who answers for a measure or clause id, a topic, or Chinese text, per document."""
    from houfu.kb.graph import owners as _owners

    kb = kb or load()
    return _owners(kb, _graph(kb), query)


def duties(department: str, *, jurisdiction: str | None = None, kb: KB | None = None) -> dict[str, Any]:
    """Everything a department answers for, by document, role and topic; ``jurisdiction`` picks among
    bodies of the same name (each county's 县人社局)."""
    from houfu.kb.graph import duties as _duties

    kb = kb or load()
    return _duties(kb, _graph(kb), department, jurisdiction)
