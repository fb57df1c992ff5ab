"""A household as a caseworker gives it at the window: the household form's fields, or text pasted or uploaded
(YAML, JSON, or rows copied from the county ledger with their header).

Everything goes through the screener's column mapping (``houfu.io.mapping``, policies/columns.yaml): a Chinese
key or header (年龄, 是否残疾, 安置点) names its field, and a value is read through the vocabulary's labels and the
spellings columns.yaml keeps (是/否, √/×, 脱贫户, 部分). A site named (policies/sites.yaml) gives the household's
jurisdiction, and the engine takes the site's own facts (its site type) from the site record, so neither is asked.

A problem is kept with the form field it belongs beside and a kind of ``errors`` in
templates/screen_messages.yaml, so it is said in the page's language; the raw record is then parsed by the
same strict parser as ``houfu check``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from houfu.engine.logic import split_fact_path
from houfu.io.inputs import InputError, parse_record
from houfu.io.mapping import ColumnSpec, spec_for
from houfu.io.notes import message
from houfu.io.reader import ReadError, read_bytes
from houfu.kb.facts import Household
from houfu.kb.loader import KB, FieldError
from houfu.kb.names import suggest

__all__ = ["FormProblem", "MAX_ROWS", "entity_row_facts", "from_form", "from_text", "member_row_facts",
           "whole_number"]

#: members or businesses one form may hold
MAX_ROWS = 30
#: keys a pasted household may use for its lists, beside ``members`` and ``entities``
_LISTS = {"members": ("members", "成员", "家庭成员", "家庭成员信息"), "entities": ("entities", "经营实体", "经营主体")}
_UNITS = re.compile(r"\s*(口人|口|人|个|位|岁|周岁|户|家)$")
_MISSING = object()


@dataclass(frozen=True)
class FormProblem:
    """A value not accepted: the form field it belongs beside (``site``, ``m1.age``, ``text`` for pasted text),
    the kind (templates/screen_messages.yaml ``errors``) and its values."""

    field: str
    kind: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, lang: str) -> str:
        """The reason in ``lang``, after the field it is about where the problem stands away from it (pasted text)."""
        reason = message("errors", self.kind, lang, self.params, "reason")
        at = self.params.get(f"at_{lang}")
        return message("words", "whose_fact", lang, {"who": at, "label": reason}) if at else reason


def whole_number(text: str) -> int | None:
    """A count or an age as people say it: 3, 3人, 三口人, 两个, 58岁, 五十八; None if it is not one."""
    t = _UNITS.sub("", text.strip().translate(_FULL_WIDTH))
    if t.isdigit():
        return int(t)
    if not t or len(t) > 8:
        return None
    import cn2an

    try:
        n = cn2an.cn2an(t, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return int(n) if float(n).is_integer() and n >= 0 else None


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def member_row_facts(kb: KB) -> list[str]:
    """The facts the form asks of every member in their row: the vocabulary's yes/no and coded member facts that
    are asked of anyone (no ``ask_if``); the rest follow in the interview, once the age is known."""
    return [f.id for f in kb.fact_labels.values() if _on(f.record, "member") and f.ask_if is None
            and f.type in ("boolean", "code")]


def entity_row_facts(kb: KB) -> list[str]:
    return [f.id for f in kb.fact_labels.values() if _on(f.record, "entity") and f.ask_if is None
            and f.type in ("boolean", "code")]


def _on(record: Any, kind: str) -> bool:
    return record == kind or (isinstance(record, list) and kind in record)


def from_form(kb: KB, form: Mapping[str, str]) -> tuple[dict[str, Any], list[FormProblem]]:
    """The household form's fields (``id``, ``name``, ``site``, ``jurisdiction``, ``category``, ``members_n``,
    ``m{i}.name``, ``m{i}.age``, ``m{i}.birth_date``, ``m{i}.<fact>``, ``entities_n``, ``e{i}.id`` …) as a raw
    household, and the problems, each beside its field. A row left blank is no member."""
    spec = spec_for(kb)
    problems: list[FormProblem] = []
    raw: dict[str, Any] = {}

    def take(key: str, fact: str, into: dict[str, Any], out_key: str | None = None) -> None:
        text = str(form.get(key, "")).strip()
        if not text:
            return
        value, problem = _value(spec, fact, text, key)
        if problem is not None:
            problems.append(problem)
        elif value is not _MISSING:
            into[out_key or fact] = value

    for key in ("id", "name"):
        if str(form.get(key, "")).strip():
            raw[key] = str(form[key]).strip()
    if "id" not in raw:
        problems.append(FormProblem("id", "required"))
    site = str(form.get("site", "")).strip()
    if site:
        raw["site"] = site
        if site in kb.sites:
            raw["jurisdiction"] = kb.sites[site].jurisdiction
    if "jurisdiction" not in raw:
        where = str(form.get("jurisdiction", "")).strip()
        if where:
            raw["jurisdiction"] = where
        else:
            problems.append(FormProblem("jurisdiction" if not site else "site", "required"))
    take("category", "category", raw)
    members = []
    for i in range(_rows(form, "members_n")):
        m: dict[str, Any] = {}
        if str(form.get(f"m{i}.name", "")).strip():
            m["name"] = str(form[f"m{i}.name"]).strip()
        take(f"m{i}.age", "age", m)
        take(f"m{i}.birth_date", "birth_date", m)
        for fact in member_row_facts(kb):
            take(f"m{i}.{fact}", fact, m)
        if m:
            members.append(m)
    if members:
        raw["members"] = members
    entities = []
    for i in range(_rows(form, "entities_n")):
        e: dict[str, Any] = {}
        for key in ("id", "name"):
            if str(form.get(f"e{i}.{key}", "")).strip():
                e[key] = str(form[f"e{i}.{key}"]).strip()
        for fact in entity_row_facts(kb):
            take(f"e{i}.{fact}", fact, e)
        if e and "id" not in e:
            problems.append(FormProblem(f"e{i}.id", "required"))
        if e:
            entities.append(e)
    if entities:
        raw["entities"] = entities
    if not problems:
        problems += check(kb, raw)
    return raw, problems


def _rows(form: Mapping[str, str], key: str) -> int:
    n = whole_number(str(form.get(key, "0")) or "0")
    return min(n or 0, MAX_ROWS)


def from_text(kb: KB, text: str) -> tuple[dict[str, Any], list[FormProblem]]:
    """Pasted or uploaded text: YAML or JSON (English or Chinese keys, codes or Chinese labels, 是/否), or rows
    copied from a ledger (tab-separated, the header first; one member a row). The raw household and the problems."""
    text = text.strip("\r\n")
    if not text.strip():
        return {}, [FormProblem("text", "required")]
    first = text.lstrip("\r\n").split("\n", 1)[0]
    if "\t" in first:
        raw, problems = _ledger_rows(kb, text)
    else:
        try:
            data = read_bytes(text.encode("utf-8"), as_json=False).data
        except ReadError as exc:
            return {}, [FormProblem("text", "not_readable", {"detail": exc.message})]
        if not isinstance(data, dict):
            return {}, [FormProblem("text", "not_household")]
        raw, problems = _mapped(kb, spec_for(kb), data)
    if not problems:
        problems += check(kb, raw)
    return raw, [_at_text(kb, p) for p in problems]


def _at_text(kb: KB, p: FormProblem) -> FormProblem:
    """A problem of pasted text: shown at the text box, naming the field it is about (第3位家人 年龄)."""
    if p.field == "text":
        return p
    spec = spec_for(kb)
    words = {}
    m = re.match(r"^([me])(\d+)\.(.+)$", p.field)
    for lang in ("zh", "en"):
        if m is None:
            words[f"at_{lang}"] = spec.label("household", p.field) if lang == "zh" else p.field
            continue
        level, n, fact = ("member" if m.group(1) == "m" else "entity"), int(m.group(2)) + 1, m.group(3)
        who = message("words", "member_n" if level == "member" else "business_n", lang, {"n": n})
        label = spec.label(level, fact) if lang == "zh" else fact
        words[f"at_{lang}"] = message("words", "whose_fact", lang, {"who": who, "label": label})
    return FormProblem("text", p.kind, {**p.params, **words})


def check(kb: KB, raw: dict[str, Any]) -> list[FormProblem]:
    """The strict parser's verdict on a raw household, as a problem beside its field (its message kept for English)."""
    try:
        parse_record(raw, Household, "form", kb)
    except InputError as exc:
        return [FormProblem(_form_field(exc.field), "not_accepted", {"detail": exc.message,
                                                                    "field": exc.field})]
    except FieldError as exc:
        return [FormProblem(_form_field(exc.field), "not_accepted", {"detail": exc.message, "field": exc.field})]
    return []


def _form_field(path: str) -> str:
    """A record's field path (members[1].age) as the form names its field (m1.age)."""
    try:
        collection, index, key = split_fact_path(path)
    except ValueError:
        return path
    if collection is None or index is None:
        return key
    return f"{'m' if collection == 'members' else 'e'}{index}.{key}"


def _mapped(kb: KB, spec: ColumnSpec, data: dict[str, Any]) -> tuple[dict[str, Any], list[FormProblem]]:
    problems: list[FormProblem] = []

    def record(items: dict[str, Any], level: str, where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, v in items.items():
            k = str(key)
            lists = next((name for name, keys in _LISTS.items() if k in keys), None)
            if level == "household" and lists is not None:
                if not isinstance(v, list):
                    out[lists] = v  # the parser says what is wrong with it
                    continue
                sub = "member" if lists == "members" else "entity"
                out[lists] = [record(x, sub, f"{'m' if sub == 'member' else 'e'}{i}.") if isinstance(x, dict) else x
                              for i, x in enumerate(v)]
                continue
            fld = k if k in spec.fields(level) or k in ("owners",) else spec.field(level, k)
            if fld is None or fld == "household":
                if spec.is_ignored(k) or fld == "household":
                    continue
                out[k] = v  # the parser names it, with a suggestion
                continue
            if isinstance(v, str | int | float | bool) and fld not in ("id", "name", "owners"):
                value, problem = _value(spec, fld, v, where + fld)
                if problem is not None:
                    problems.append(problem)
                elif value is not _MISSING:
                    out[fld] = value
            else:
                out[fld] = v
        return out

    raw = record(data, "household", "")
    _site_gives_jurisdiction(spec, raw)
    return raw, problems


def _site_gives_jurisdiction(spec: ColumnSpec, raw: dict[str, Any]) -> None:
    if isinstance(raw.get("site"), str) and not raw.get("jurisdiction"):
        site = spec.site(raw["site"])
        if site is None and raw["site"] in spec.kb.sites:
            raw["jurisdiction"] = spec.kb.sites[raw["site"]].jurisdiction
        elif site is not None:
            raw["jurisdiction"] = site.jurisdiction


def _ledger_rows(kb: KB, text: str) -> tuple[dict[str, Any], list[FormProblem]]:
    """A header line and rows, tab-separated, as Excel copies them: household columns fill the household (the
    first row that gives one), member columns make one member a row."""
    spec = spec_for(kb)
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    headers = [h.strip() for h in lines[0].split("\t")]
    problems: list[FormProblem] = []
    where: list[tuple[str, str] | None] = []
    for h in headers:
        m, hh = spec.field("member", h), spec.field("household", h)
        if hh is not None:
            where.append(("household", hh))
        elif m is not None and m not in ("household", "id_number"):
            where.append(("member", m))
        elif not h or spec.is_ignored(h) or m == "id_number":
            where.append(None)  # an ID number is never taken from pasted text: it is not kept in the clear
        else:
            near = suggest(h, [*spec.headers["member"], *spec.headers["household"]])
            problems.append(FormProblem("text", "unknown_column", {"value": h, "near": near[0] if near else "-"}))
            where.append(None)
    raw: dict[str, Any] = {}
    members: list[dict[str, Any]] = []
    for n, line in enumerate(lines[1:], start=2):
        member: dict[str, Any] = {}
        for spot, cell in zip(where, line.split("\t"), strict=False):
            if spot is None or not cell.strip():
                continue
            level, fld = spot
            value, problem = _value(spec, fld, cell, f"text:{n}:{fld}")
            if problem is not None:
                problems.append(FormProblem("text", problem.kind, {**problem.params, "row": n}))
            elif value is not _MISSING:
                if level == "household":
                    raw.setdefault(fld, value)
                else:
                    member[fld] = value
        if member:
            members.append(member)
    if len(lines) < 2:
        problems.append(FormProblem("text", "no_rows"))
    if members:
        raw["members"] = members
    _site_gives_jurisdiction(spec, raw)
    return raw, problems


def _value(spec: ColumnSpec, fact: str, v: Any, where: str) -> tuple[Any, FormProblem | None]:
    """A value as the vocabulary wants it: yes/no words, a code by its label or spelling, a whole number as said."""
    label = spec.kb.fact_labels.get(fact)
    if label is None or not isinstance(v, str):
        if label is not None and label.type == "integer" and isinstance(v, float) and v.is_integer():
            return int(v), None
        return v, None
    text = v.strip()
    if not text or text in spec.unknown:
        return _MISSING, None
    if label.type == "boolean":
        if text in spec.true or text.lower() in ("true", "yes"):
            return True, None
        if text in spec.false or text.lower() in ("false", "no"):
            return False, None
        return None, FormProblem(where, "not_yes_no", {"value": text})
    if label.type == "code":
        spellings = spec.spellings(fact)
        if text in spellings:
            code = spellings[text]
            return (_MISSING, None) if code is None else (code, None)
        return None, FormProblem(where, "not_one_of", {
            "value": text, "allowed_zh": "、".join(label.labels.values()),
            "allowed_en": ", ".join(f"{zh} ({code})" for code, zh in label.labels.items())})
    if label.type == "integer":
        n = whole_number(text)
        return (n, None) if n is not None else (None, FormProblem(where, "not_number", {"value": text}))
    if label.type == "number":
        try:
            return float(text.translate(_FULL_WIDTH)), None
        except ValueError:
            return None, FormProblem(where, "not_number", {"value": text})
    return text, None
