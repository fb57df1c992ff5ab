"""Every rule has at least one positive case and one negative case among the YAML rule cases."""

from pathlib import Path

import yaml

POLICIES = Path(__file__).resolve().parents[1] / "policies"
POSITIVE = {"applies", "met", "violated", "satisfied", "not_due"}
NEGATIVE = {"does_not_apply"}


def _cases():
    for path in POLICIES.glob("*/tests/*.yaml"):
        yield from yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_rule_has_a_positive_and_a_negative_case(kb):
    seen: dict[str, set[str]] = {}
    for case in _cases():
        for status, ids in case["output"].items():
            for mid in ids:
                seen.setdefault(mid, set()).add(status)
    missing = []
    for mid, m in kb.measures.items():
        if not m.rule:
            continue
        statuses = seen.get(mid, set())
        if not statuses & POSITIVE:
            missing.append(f"{mid}: no positive case")
        if m.rule.when is not None and not statuses & NEGATIVE:
            missing.append(f"{mid}: no negative case")
        if m.rule.requires is not None and not {"met", "violated"} <= statuses:
            missing.append(f"{mid}: needs both a met and a violated case")
        if m.rule.quota is not None and not {"met", "violated", "not_due"} <= statuses:
            missing.append(f"{mid}: a periodic quota needs a met, a violated and a not_due case")
        if m.rule.satisfied_if is not None and not {"applies", "satisfied"} <= statuses:
            missing.append(f"{mid}: needs an applies and a satisfied case")
    assert not missing, "\n".join(missing)
