"""One "did you mean" (houfu.kb.names.suggest) for every name houfu does not know, at its cutoff's edges."""

from __future__ import annotations

import difflib

import pytest

from houfu.kb.names import CUTOFF, did_you_mean, suggest


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def test_a_name_exactly_at_the_cutoff_is_offered_and_one_just_under_is_not():
    assert ratio("ab", "abcdef") == CUTOFF == 0.5
    assert suggest("ab", ["abcdef"]) == ["abcdef"]
    assert ratio("ab", "abcdefg") < CUTOFF
    assert suggest("ab", ["abcdefg"]) == []
    # The same edge in a real message: labour is half of labor_capacity.
    assert ratio("labour", "labor_capacity") == 0.5 and suggest("labour", ["age", "labor_capacity"]) == ["labor_capacity"]


@pytest.mark.parametrize(("given", "known", "offered"), [
    ("site_typ", ["site_type", "site_population"], ["site_type"]),  # a typo in a field
    ("人社", ["县人社局", "县民政局"], ["县人社局"]),  # a short Chinese name, part of the registry's
    ("定南", ["定南县", "十堰市"], ["定南县"]),
    ("帮扶责任人", ["家庭人口", "安置点名称"], []),  # a character or two in common is not close
    ("北京", ["定南县", "郧阳区", "dingnan"], []),
])
def test_close_names_are_offered_and_far_ones_are_not(given, known, offered):
    assert suggest(given, known) == offered


def test_case_and_spaces_are_ignored_and_the_name_is_offered_as_written():
    assert suggest("  SITE_TYPE ", ["site_type"]) == ["site_type"]
    assert suggest("Dingnan", ["dingnan"]) == ["dingnan"]


def test_the_closest_come_first_ties_keep_the_callers_order_and_a_name_is_offered_once():
    assert suggest("abcd", ["abxx", "abcx", "abcd0"], n=3) == ["abcd0", "abcx", "abxx"]
    assert suggest("ab", ["xy", "ab1", "ab2", "ab1"], n=3) == ["ab1", "ab2"]
    assert suggest("ab", ["ab2", "ab1"], n=3) == ["ab2", "ab1"]
    assert suggest("site", ["site_a", "site_b", "site_c"], n=2) == ["site_a", "site_b"]
    assert suggest("x", []) == [] and suggest("site", ["site_a"], n=0) == []


def test_the_message_tail_names_each_suggestion_or_says_nothing():
    assert did_you_mean(["site_type"]) == "; did you mean 'site_type'?"
    assert did_you_mean(["dn.4.3.a", "dn.4.3.b"], quoted=False) == "; did you mean dn.4.3.a, dn.4.3.b?"
    assert did_you_mean([]) == ""


def test_every_did_you_mean_goes_through_suggest():
    # No module keeps its own matcher or cutoff (the web room is rewritten separately).
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "houfu"
    own = [str(p.relative_to(root)) for p in root.rglob("*.py")
           if "difflib" in p.read_text(encoding="utf-8") and p.name != "names.py"]
    assert own == []
