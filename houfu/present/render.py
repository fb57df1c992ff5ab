"""Plain-text renderings of command results for the terminal (``--json`` skips these)."""

from __future__ import annotations

import re
from typing import Any

from houfu.engine.results import Amount, Determination, Explanation, Question, Report, Status
from houfu.present.letters import ActionSummary, LetterAmount
from houfu.present.numbers import MEMBER_REF, for_people

__all__ = ["determination_text", "summary_text", "explain_text", "stats_text", "show_text", "search_text", "validate_text"]

_MARK = {Status.applies: "✔", Status.satisfied: "=", Status.met: "✔", Status.violated: "✘", Status.not_due: "…",
         Status.does_not_apply: "·", Status.out_of_scope: "–", Status.undetermined: "?"}
_ORDER = [Status.violated, Status.not_due, Status.applies, Status.satisfied, Status.met, Status.undetermined,
          Status.does_not_apply, Status.out_of_scope]


#: Owners shown on one screen before "and N others" (-v shows them all).
OWNERS_SHOWN = 3


def _owners(e: Determination, verbose: bool = False) -> str:
    """The owners, the one that handles it first; shortened unless verbose, never cut silently."""
    if not e.owners:
        return "no owner named in the text"
    owners = sorted(e.owners, key=lambda o: (not o.handles, o.role.value != "named", o.role.value != "lead"))
    shown = owners if verbose else owners[:OWNERS_SHOWN]
    text = "、".join(f"{o.name}({'handles' if o.handles else o.role.value})" for o in shown)
    rest = len(owners) - len(shown)
    return text + (f" and {rest} other(s)" if rest else "")


def summary_text(summary: ActionSummary) -> list[str]:
    """The letter's action summary, for the top of ``houfu check``: what the household can act on now."""
    lines = []
    for title, items in (("money", summary.money), ("apply", summary.apply), ("must keep to", summary.restrictions)):
        if not items:
            continue
        lines.append(f"  {title}:")
        for it in items:
            who = "、".join(p.name or f"member {p.number}" for p in it.who)
            where = _where_text(it.at_window, it.where_kind, it.where)
            lines.append(f"    - {who + ': ' if who else ''}{it.text}  [{it.cite}]")
            lines += [f"        {_letter_amount(a)}" for a in it.amounts]
            if where and title != "must keep to":
                lines.append(f"        → {where}")
    if summary.ask:
        lines.append("  bring or tell us:")
        lines += [f"    - {q}" for q in summary.ask]
    if not lines:
        return ["\nDO THESE FIRST: nothing to act on yet"]
    return ["\nDO THESE FIRST"] + lines


#: How the terminal says where an item goes (LetterLine.where_kind); the caseworker sees whose choice it is.
_WHERE = {"named": "{} (named in the text)", "suggested": "{} (houfu's suggestion by department duty; the text "
          "names no office)", "window": "the site's one-stop window (no office recorded)",
          "listed": "{} (as the text lists them; no office recorded)", "": ""}


def _where_text(at_window: bool, kind: str, names: list[str]) -> str:
    if at_window:
        return "at the site's one-stop window (the text says so)"
    return _WHERE[kind].format("、".join(names))


def _letter_amount(a: LetterAmount) -> str:
    if a.quantity == "quarterly_subsidy":
        return f"{a.who}: {a.value} yuan this quarter"
    if a.quantity == "training_shortfall":
        return f"{a.who}: still owed {a.value} training(s) this year"
    if a.quantity == "restriction_min_years":
        return f"at least {a.value} years"
    return f"{a.who + ': ' if a.who else ''}{a.quantity} {a.value}"


def determination_text(report: Report, verbose: bool = False, summary: ActionSummary | None = None) -> str:
    lines = [f"{report.entity.capitalize()} {report.id} · {report.jurisdiction} · as of {report.as_of.isoformat()}"]
    lines += [f"  in force: {d.id} 《{d.title}》" for d in report.documents] or ["  no document in force"]
    lines.append("  " + ", ".join(f"{k.value}: {v}" for k, v in sorted(report.summary.items(), key=lambda kv: kv[0].value)))
    lines += [f"  note: {n.en}" for n in report.notices]
    scoped = {e.out_of_scope.document: e.out_of_scope for e in report.determinations if e.out_of_scope}
    lines += [f"  out of scope: {d} covers only 「{s.quote}」 [{d} {s.clause_number}]; here "
              + "; ".join(s.failed) for d, s in scoped.items()]
    if summary is not None and any(e.status is not Status.out_of_scope for e in report.determinations):
        lines += summary_text(summary)
    for status in _ORDER:
        group = [e for e in report.determinations if e.status is status]
        if not group:
            continue
        lines.append(f"\n{status.value.upper()} ({len(group)})")
        if status is Status.out_of_scope:
            lines.append(f"  {len(group)} measure(s) of a document that does not cover this {report.entity} (above)")
            continue
        for e in group:
            lines.append(f"  {_MARK[status]} {e.measure_id}  [{e.document} {e.clause_number}] {e.zh}")
            if status in (Status.applies, Status.met, Status.violated) or verbose:
                lines.append(f"      owners: {_owners(e, verbose)}")
                if not any(o.role.value != "implicit" for o in e.owners):
                    lines.append("      the text names no office: its addressees bear it")
            if e.handler is not None and (status in (Status.applies, Status.undetermined) or verbose):
                basis = ("named in the text: " + (e.handler.text or "") if e.handler.basis.value == "text"
                         else "houfu's suggestion by department duty: " + e.handler.reason)
                lines.append(f"      handler: {e.handler.name} ({basis})")
            if e.gap:
                lines.append(f"      gap: {e.gap.en}")
            if e.due:
                lines.append(f"      due by {e.due.isoformat()}")
            lines += [f"      {line}" for line in period_lines(e)]
            lines += [f"      {line}" for line in amount_lines(e.amounts)]
            if e.missing:
                lines.append("      missing: " + ", ".join(_for_people(m, report) for m in e.missing))
            if e.not_decidable:
                lines.append(f"      not decidable: {e.not_decidable}")
            if e.failed:  # one short clause by default, every failed test with -v
                failed = [_for_people(f, report) for f in e.failed]
                lines.append("      because: " + ("; ".join(failed) if verbose else failed[0]))
    if report.questions:
        lines.append("\nTo decide the rest, ask (most decisive first):")
        lines += [f"  - {_who(q)}{q.en}  [{q.fact}, decides {q.decides}]" for q in report.questions[:10]]
    return "\n".join(lines)


def period_lines(e: Determination) -> list[str]:
    """A quota's periods in short: each one missed, those whose count is unknown, the one under way, and a
    partial period not judged."""
    lines = []
    missed = [p for p in e.periods if p.status is Status.violated]
    if missed:
        lines.append("missed: " + ", ".join(f"{p.period} ({_num(p.count)} of {_num(p.required)})" for p in missed))
    unknown = [p.period for p in e.periods if p.status is Status.undetermined]
    if unknown:
        lines.append("count unknown for: " + ", ".join(unknown))
    for p in e.periods:
        if not p.judged:
            lines.append(f"{p.period} not judged: in force {p.start} to {p.end} only")
        elif not p.complete and p.count is None:
            lines.append(f"{p.period} under way: {_num(p.required)} required by its end")
        elif not p.complete:
            lines.append(f"{p.period} so far: {_num(p.count)} of {_num(p.required)}"
                         + (f", {_num(p.still_needed)} still needed" if p.still_needed else ""))
    return lines


def _num(v: float | int | bool | str | None) -> str:
    if v is None:
        return "?"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return for_people(v)
    return str(v)


def _for_people(text: str, report: Report) -> str:
    """members[0].age -> 陈老汉 (member 1): age; people count from 1 and know each other by name."""
    def name(m: re.Match[str]) -> str:
        i = int(m.group(2))
        if m.group(1) == "members":
            known = report.member_names[i] if i < len(report.member_names) else None
            return f"{known + ' ' if known else ''}(member {i + 1}): "
        known_e = report.entity_names[i] if i < len(report.entity_names) else None
        return f"{known_e + ' ' if known_e else ''}(business {i + 1}): "

    return MEMBER_REF.sub(name, text)


def _who(q: Question) -> str:
    if q.number is None:
        return ""
    return f"{q.about or ('member ' if q.member is not None else 'business ') + str(q.number)}: "


def amount_lines(amounts: list[Amount]) -> list[str]:
    """One line per computed amount, for the terminal (briefs word them from templates)."""
    out = []
    for a in amounts:
        b = a.basis
        who = (f"entity {a.entity}" if a.entity else
               f"member {a.member}{' ' + a.member_name if a.member_name else ''}" if a.member is not None else "household")
        if a.quantity == "quarterly_subsidy":
            out.append(f"subsidy for {a.entity}: {_num(a.value)} yuan this quarter "
                       f"({_num(b.get('rate_percent'))}% × {_num(b.get('monthly_covered_fees_yuan'))} × "
                       f"{_num(b.get('months'))} months, cap {_num(b.get('quarterly_cap_yuan'))}"
                       f"{', capped' if b.get('capped') else ''})")
        elif a.quantity == "training_shortfall":
            out.append(f"{who}: {_num(b.get('trainings_this_year'))} of {_num(b.get('required_per_year'))} "
                       f"training(s) this year, shortfall {_num(a.value)}")
        elif a.quantity == "employment_gap":
            out.append(f"employed members: {_num(b.get('employed_members'))}, required {_num(b.get('required'))}, "
                       f"gap {_num(a.value)}")
        elif a.quantity == "restriction_min_years":
            out.append(f"resale restricted, in principle, for at least {_num(a.value)} years "
                       "(local rules may set longer; the text names no start date)")
        else:
            out.append(f"{a.quantity} for {who}: {_num(a.value)} {a.unit}")
        if a.missing:
            out.append(f"  (needs {', '.join(a.missing)})")
    return out


def explain_text(x: Explanation) -> str:
    d = x.determination
    lines = [f"{d.measure_id}: {d.status.value}", f"  {d.document} {d.clause_number}: {d.zh}",
             f"  quote: 「{d.quote}」", f"  condition: {d.condition or 'none (no rule)'}"]
    if d.why:
        lines.append("  chain of rules that fired:")
        lines += [f"    {i}. {f.rule} → {f.name} = {str(f.value).lower()}  [{f.document} {f.clause_number}]"
                  for i, f in enumerate(d.why, 1)]
    word = {True: "yes", False: "no", None: "unknown"}
    for t in x.member_tests:
        lines.append(f"  {t.test}:")
        lines += [f"    uses {c.name} [{c.document} {c.clause_number}] 「{c.quote}」" for c in t.concepts]
        item = "member" if t.of == "members" else (t.kind_en or "entity")
        lines += [f"    {item} {r.member}{' ' + r.name if r.name else ''}: {word[r.value]}" for r in t.members]
    if d.out_of_scope:
        s = d.out_of_scope
        lines.append(f"  out of scope: {s.document} covers only 「{s.quote}」 [{s.document} {s.clause_number}]; "
                     "here " + "; ".join(s.failed))
    for p in d.periods:
        span = f"{p.start} to {p.end}, " if p.partial else ""
        state = "complete" if p.complete else "under way"
        if not p.judged:
            lines.append(f"  period {p.period} ({span}{state}): not judged" + (f": {p.reading}" if p.reading else ""))
            continue
        lines.append(f"  period {p.period} ({span}{state}): {_num(p.count)} of {_num(p.required)}"
                     + (f", {_num(p.still_needed)} still needed" if p.still_needed else "")
                     + (f" → {p.status.value}" if p.status else ""))
    if d.gap:
        lines.append(f"  gap: {d.gap.en}")
    lines += [f"  note: {n.en}" for n in x.notices]
    if d.failed:
        lines.append("  ruled out by: " + "; ".join(d.failed))
    if d.missing:
        lines.append("  missing facts: " + ", ".join(d.missing))
    if d.note:
        lines.append(f"  reading: {d.note}")
    return "\n".join(lines)


def stats_text(s: dict[str, Any]) -> str:
    lines = []
    for doc_id, d in s["documents"].items():
        lines.append(f"{doc_id}: {d['parts']} parts, {d['clauses']} clauses, {d['measures']} measures "
                     f"({d['rules']} with rules, {d['not_decidable']} not decidable), {d['parameters']} parameters, "
                     f"{d['repairs']} repairs")
        if d["drafts"]:
            lines.append(f"  draft: {d['drafts']} item(s) still to review (houfu kb validate lists them); "
                         "it decides nothing until they are done")
        lines.append("  by force:   " + ", ".join(f"{k} {v}" for k, v in sorted(d["by_force"].items())))
        lines.append("  by subject: " + ", ".join(f"{k} {v}" for k, v in sorted(d["by_subject"].items())))
        lines.append("  by modality: " + ", ".join(f"{k} {v}" for k, v in sorted(d["by_modality"].items())))
        c = d["sentence_coverage"]
        lines.append(f"  sentences: {c['sentences']}, quoted by measures {c['by_measure']}, "
                     f"with a recorded reason {c['by_reason']}: {c['percent']:g}% accounted for")
    lines.append(f"bodies: {s['departments']} (" + ", ".join(f"{k} {v}" for k, v in sorted(s["departments_by_kind"].items())) + ")")
    lines.append(f"concepts: {s['concepts']}, glossary terms: {s['glossary_terms']}")
    return "\n".join(lines)


def show_text(x: dict[str, Any]) -> str:
    if x["kind"] == "measure":
        lines = [f"{x['id']}  [{x['document']} {x['clause_number']}]  {x['force']} · {x['subject']}",
                 f"  {x['zh']}", f"  {x['en']}", f"  quote: 「{x['quote']}」"]
        lines += [f"  parameter {p['id']}: {p['value']:g} {p['unit']} ({p['bound']}) 「{p['text']}」"
                  for p in x.get("parameters", [])]
        lines.append("  owners: " + ("、".join(f"{o['name']}({o['role']})" for o in x["owners"]) or "none named"))
        for key in ("note", "not_decidable"):
            if x.get(key):
                lines.append(f"  {key}: {x[key]}")
        if x.get("rule"):
            lines.append(f"  rule: {x['rule']}")
        return "\n".join(lines)
    lines = [f"{x['id']}  {x['document']} {x['number']} {x['heading']}", f"  {x['text']}"]
    if x["responsibility"]:
        r = x["responsibility"]
        lines.append(f"  {r['role']}: " + "、".join(b["as_written"] + (f" ({b['list_role']})" if b.get("list_role") else "")
                                                for b in r["bodies"]))
    if x["named"]:
        lines.append("  named: " + "、".join(x["named"]))
    lines += [f"  repair: {r['scraped']!r} → {r['repaired']!r} ({r['reason']})" for r in x["repairs"]]
    lines += [f"  - {m['id']} [{m['force']}, {m['subject']}] {m['zh']}" for m in x["measures"]]
    return "\n".join(lines)


def search_text(hits: list[dict[str, Any]]) -> str:
    if not hits:
        return "no match"
    return "\n".join(f"{h['kind']:8} {h['id']:42} [{h['document']} {h['number']}] {h['text']}" for h in hits)


def validate_text(errors: list[Any], counts: dict[str, Any]) -> str:
    if errors:
        return "\n".join(str(e) for e in errors) + f"\n{len(errors)} defect(s) found"
    return ("knowledge base OK: " + ", ".join(f"{d}: {c['clauses']} clauses, {c['measures']} measures"
                                              for d, c in counts["documents"].items()))


#: How the terminal names a body's part in a measure: the clause's list (lead, shared), the sentence (named), a
#: bearer the text implies, and the office a household is sent to (houfu's reading by duty, or the text's).
ROLE_WORDS = {"lead": "lead", "shared": "shared", "named": "named in the sentence", "implicit": "implicit",
              "handler": "handler"}
_BASIS_WORDS = {"text": "named by the text", "duty": "houfu's reading by department duty; the text names none"}


def owners_text(x: dict[str, Any]) -> str:
    lines = [f"owners of {x['query']!r} (matched by {x['matched_by']})"]
    if not x["documents"]:
        lines.append("  nothing matched; try a topic such as training or employment")
    for doc_id, d in x["documents"].items():
        lines.append(f"{doc_id}:")
        for dep in d["departments"]:
            roles = ", ".join(f"{ROLE_WORDS.get(r, r)} {n}" for r, n in
                              sorted(dep["roles"].items(), key=lambda rn: (rn[0] != "handler", rn[0])))
            lines.append(f"  {dep['name']:<16} {dep['en']:<55} {roles}")
        for m in d["matches"]:
            owners = m["owners"] if isinstance(m["owners"], str) else "、".join(
                f"{o['name']}({ROLE_WORDS.get(o['role'], o['role'])})" for o in m["owners"])
            lines.append(f"  · {m['id']} [{m['clause_number']}] {m['text']} — {owners}")
            if m.get("handler"):
                h = m["handler"]
                lines.append(f"      {ROLE_WORDS['handler']}: {h['name']} ({_BASIS_WORDS[h['basis']]}: {h['reason']})")
    return "\n".join(lines)


def duties_text(x: dict[str, Any]) -> str:
    lines = [f"{x['name']} ({x['full_name']}; {x['en']})"]
    if x["successor"]:
        lines.append(f"  succeeded by {x['successor']['name']} ({x['successor']['en']})")
    if x.get("note"):
        lines.append(f"  note: {x['note']}")
    if not x["documents"]:
        lines.append(f"  no duties in any of the {x['documents_loaded']} document(s) loaded")
    for doc_id, roles in x["documents"].items():
        lines.append(f"{doc_id}:")
        for role, topics in roles.items():
            lines.append(f"  {role}:")
            for topic, items in topics.items():
                lines.append(f"    [{topic}]")
                lines += [f"      {i['clause_number']} {i['text']} ({i['id']})" for i in items]
    return "\n".join(lines)


def analyses_text(x: dict[str, Any]) -> str:
    lines = ["load per body (clauses / measures by role):"]
    for r in x["load"][:25]:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(r.items()) if k not in ("id", "name"))
        lines.append(f"  {r['name']:<20} {parts}")
    lines.append(f"clauses without a lead: {len(x['clauses_without_lead'])}")
    lines.append(f"measures with no owner named: {len(x['measures_without_owner'])}")
    lines.append("bodies that share the most clauses:")
    lines += [f"  {p['a']} + {p['b']}: {p['shared_clauses']}" for p in x["co_responsibility"]]
    return "\n".join(lines)


def compare_text(x: dict[str, Any]) -> str:
    lines = [f"topic {x['topic']} ({x['zh']} / {x['en']})"]
    for doc_id, d in x["documents"].items():
        lines.append(f"\n{doc_id} 《{d['title']}》: {len(d['measures'])} measure(s)")
        for m in d["measures"]:
            nums = "; ".join(n["text"] for n in m["numbers"])
            owners = "、".join(f"{o['name']}({o['role']})" for o in m["owners"]) or "no owner named"
            lines.append(f"  {m['clause_number']:<6} {m['zh']}" + (f"  [{nums}]" if nums else ""))
            lines.append(f"         owners: {owners}")
    return "\n".join(lines)
