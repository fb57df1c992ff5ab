"""Which column is which: policies/columns.yaml, plus a county's own mapping file (``houfu screen --columns``).

A header is read (it names a field of the table's level), ignored on purpose (``ignored`` in columns.yaml, or
``ignore`` in the mapping file), or reported with a suggestion: no column is dropped without a word. Values
are read through the vocabulary's labels, the spellings in columns.yaml (with the reading chosen for a
register's own labels) and the mapping file's. Site names (sites.yaml, their aliases, and the mapping file's
``values.site``) give a household's jurisdiction where no county column does.

A mapping file::

    headers:                     # a header as the file writes it -> a field, or ignore
      劳动力状况: labor_capacity
      联系电话: ignore
    values:                      # a field -> {spelling: code}; site -> {spelling: a site in sites.yaml}
      labor_capacity: {弱劳力(半劳力): partial}
      site: {定南县城安置点: 定南县县城集中安置点}
      yes_words: [有的]          # words read as yes, no or not known in any yes/no column
      no_words: [没]

``suggest`` drafts one for a person to review (``houfu screen --suggest-columns``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from houfu.engine.columns import codec_for
from houfu.io.ledger import RowWords
from houfu.io.limits import TableError
from houfu.io.notes import Note, note
from houfu.kb.loader import KB
from houfu.kb.models import ENTITY_KIND
from houfu.kb.names import did_you_mean, suggest

__all__ = ["ColumnSpec", "LEVELS", "norm", "spec_for", "suggestion_file"]

LEVELS = ("household", "member", "entity", "site")
#: fields every table of a level may have beside the vocabulary's facts (columns.yaml names them)
EXTRA = {"household": ("id", "name", "site", "jurisdiction", "category"), "member": ("household", "name", "id_number"),
         "entity": ("household", "site", "id", "name"), "site": ("id", "name", "jurisdiction")}
IGNORE = "ignore"
#: a mapping file's lists of words read as yes, no or not known in any yes/no column (YAML 1.1 reads a bare yes or
#: no as a boolean, so the keys say what they hold)
WORDS = ("yes_words", "no_words", "unknown_words")


def norm(header: str) -> str:
    """A header as it is matched: spaces and full-width brackets aside, lower case."""
    return header.strip().replace("（", "(").replace("）", ")").replace(" ", "").replace("\u3000", "").lower()


def _site_key(name: str) -> str:
    return norm(name)


@dataclass
class Site:
    name: str
    jurisdiction: str


@dataclass
class ColumnSpec:
    """The headers and spellings one run reads with: columns.yaml and, if given, a county's mapping file."""

    kb: KB
    headers: dict[str, dict[str, str]]  # level -> norm(header) -> field
    ignored: dict[str, str]  # norm(header) -> why
    first_header: dict[tuple[str, str], str]  # (level, field) -> its first Chinese header (for suggestions)
    true: frozenset[str]
    false: frozenset[str]
    unknown: dict[str, str]  # word -> why it is read as not known
    values: dict[str, dict[str, str | None]]  # fact -> spelling -> code (None: read as not known)
    readings: dict[tuple[str, str], str]  # (fact, spelling) -> why, for the readings that say "not known"
    sites: dict[str, Site]  # norm(name) -> site
    site_names: list[str]
    words: RowWords
    mapping_file: str | None = None
    notes: list[Note] = field(default_factory=list)

    def field(self, level: str, header: str) -> str | None:
        return self.headers[level].get(norm(header))

    def is_ignored(self, header: str) -> str | None:
        return self.ignored.get(norm(header))

    def known(self, header: str) -> bool:
        """Whether a cell's text is a header houfu knows at any level (to find the header row)."""
        key = norm(header)
        return key in self.ignored or any(key in h for h in self.headers.values())

    def fields(self, level: str) -> set[str]:
        return set(self.headers[level].values())

    def site(self, name: str) -> Site | None:
        return self.sites.get(_site_key(name))

    def near_site(self, name: str) -> str | None:
        """The site a name is close to (by its name or an alias), by the site's own name; never taken for it."""
        found = suggest(name, self.site_names)
        site = self.site(found[0]) if found else None
        return site.name if site is not None else None

    def label(self, level: str, fld: str) -> str:
        return self.first_header.get((level, fld), fld)

    def suggest(self, level: str, header: str, values: Iterable[Any] = (), taken: Iterable[str] = ()) -> str | None:
        """The field a header most likely means: by its values (most are spellings of one coded fact), else by
        its name (close to a known header). None when nothing is close."""
        taken = set(taken)
        distinct = [str(v).strip() for v in values if v is not None and str(v).strip()][:200]
        codec = codec_for(self.kb.models, level)
        if len(set(distinct)) >= 2:
            best, best_share = None, 0.0
            for fact, kind in codec.kinds.items():
                if kind != "enum" or fact in taken:
                    continue
                spell = self.spellings(fact)
                share = sum(1 for v in set(distinct) if v in spell) / len(set(distinct))
                if share > best_share:
                    best, best_share = fact, share
            if best is not None and best_share >= 0.6:
                return best
        free = {spelling: fld for spelling, fld in self.headers[level].items() if fld not in taken}
        near = suggest(norm(header), free)
        return free[near[0]] if near else None

    def spellings(self, fact: str) -> dict[str, str | None]:
        """Every spelling of a coded fact -> its code: the code itself, the vocabulary's label, the extras."""
        label = self.kb.fact_labels.get(fact)
        out: dict[str, str | None] = {}
        if label is not None and label.labels:
            out = {code: code for code in label.labels}
            out.update({zh: code for code, zh in label.labels.items()})
        out.update(self.values.get(fact, {}))
        return out


_CACHE: dict[int, ColumnSpec] = {}


def spec_for(kb: KB, mapping: Path | None = None, encoding: str | None = None) -> ColumnSpec:
    """The spec of columns.yaml (cached per knowledge base), with a county's mapping file over it if given."""
    if mapping is None:
        got = _CACHE.get(id(kb))
        if got is None or got.kb is not kb:
            got = _CACHE[id(kb)] = _base(kb)
        return got
    spec = _base(kb)
    _apply_mapping(spec, mapping, encoding)
    return spec


def _base(kb: KB) -> ColumnSpec:
    c = kb.columns
    headers: dict[str, dict[str, str]] = {}
    first: dict[tuple[str, str], str] = {}
    for level in LEVELS:
        declared: dict[str, list[str]] = dict(getattr(c, level))
        if level == "entity":  # a declared record kind's headers (a workshop's 吸纳人数): the vocabulary's data
            for decl in kb.models.records.values():
                for fld, spellings in decl.columns.items():
                    declared[fld] = [*declared.get(fld, []), *spellings]
        codec = codec_for(kb.models, level)
        h: dict[str, str] = {}
        for fld in [*codec.kinds, *EXTRA[level], *declared]:
            h[norm(fld)] = fld
        for fld, spellings in declared.items():
            for s in spellings:
                h.setdefault(norm(s), fld)
            if spellings:
                first[(level, fld)] = spellings[0]
        headers[level] = h
    values: dict[str, dict[str, str | None]] = {}
    readings: dict[tuple[str, str], str] = {}
    for fact in c.values:
        values[fact] = c.spellings(fact)
        for spelling, v in c.values[fact].items():
            if not isinstance(v, str) and v.code is None:
                readings[(fact, spelling)] = v.why
    for decl in kb.models.records.values():  # the kind column's other spellings (扶贫车间 for a 帮扶车间)
        values.setdefault(ENTITY_KIND, {}).update({alias: decl.id for alias in decl.aliases})
    sites: dict[str, Site] = {}
    names: list[str] = []
    for record in kb.sites.values():
        for n in (record.name, *record.aliases, record.id):
            sites.setdefault(_site_key(n), Site(record.name, record.jurisdiction))
        names += [record.name, *record.aliases]
    words = RowWords(tuple(c.rows.totals), tuple(c.rows.signatures))
    return ColumnSpec(kb, headers, {norm(k): v for k, v in c.ignored.items()}, first, frozenset(c.words(True)),
                      frozenset(c.words(False)), {w.word: w.why for w in c.unknown}, values, readings, sites, names,
                      words)


def _apply_mapping(spec: ColumnSpec, path: Path, encoding: str | None) -> None:
    """A county's mapping file over columns.yaml: each line checked, one error naming the file and the key."""
    from houfu.io.reader import ReadError, read_path

    try:
        data = read_path(str(path), encoding).data
    except OSError as exc:
        raise TableError(f"{path}: -: cannot read ({exc.strerror or exc})") from None
    except ReadError as exc:
        raise TableError(f"{path}: {exc.field}: {exc.message}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict) or set(data) - {"headers", "values"}:
        extra = sorted(set(data) - {"headers", "values"}) if isinstance(data, dict) else []
        raise TableError(f"{path}: {extra[0] if extra else '-'}: a mapping file holds `headers` and `values`")
    spec.mapping_file = str(path)
    every = {f for level in LEVELS for f in spec.headers[level].values()}
    headers = data.get("headers") or {}
    if not isinstance(headers, dict):
        raise TableError(f"{path}: headers: a mapping of header -> field (or {IGNORE})")
    for header, fld in headers.items():
        key = f"headers.{header}"
        if fld is None:
            spec.notes.append(note("mapping_unchosen", file=str(path), key=key))
            continue
        if not isinstance(fld, str):
            raise TableError(f"{path}: {key}: a field name, or {IGNORE}")
        if fld == IGNORE:
            spec.ignored[norm(header)] = f"ignored in {path.name}"
            for level in LEVELS:
                spec.headers[level].pop(norm(header), None)
            continue
        if fld not in every:
            raise TableError(f"{path}: {key}: {fld!r} is not a field" + did_you_mean(suggest(fld, sorted(every))))
        spec.ignored.pop(norm(header), None)
        for level in LEVELS:
            if fld in spec.headers[level].values():
                spec.headers[level][norm(header)] = fld
            else:
                spec.headers[level].pop(norm(header), None)
    values = data.get("values") or {}
    if not isinstance(values, dict):
        raise TableError(f"{path}: values: a mapping of field -> {{spelling: code}}")
    for fact, spellings in values.items():
        if fact in WORDS and isinstance(spellings, list):
            spellings = {str(w): True for w in spellings}
        if not isinstance(spellings, dict):
            raise TableError(f"{path}: values.{fact}: a mapping of spelling -> code")
        if fact == "site":
            _map_sites(spec, path, spellings)
            continue
        if fact in WORDS:
            words = {str(w) for w in spellings}
            if fact == "yes_words":
                spec.true = spec.true | words
            elif fact == "no_words":
                spec.false = spec.false | words
            else:
                spec.unknown.update({w: f"read as not known in {path.name}" for w in words})
            continue
        label = spec.kb.fact_labels.get(fact)
        codes = set(label.labels) if label is not None else set()
        if label is not None and label.type == "boolean":
            raise TableError(f"{path}: values.{fact}: a yes/no column takes 是/否 and the words of columns.yaml; "
                             "give a word of your own under values.yes_words or values.no_words")
        if not codes:
            raise TableError(f"{path}: values.{fact}: not a coded field (one with labels in vocabulary.yaml)")
        for spelling, code in spellings.items():
            if code is None:
                spec.notes.append(note("mapping_unchosen", file=str(path), key=f"values.{fact}.{spelling}"))
                continue
            code = spec.spellings(fact).get(str(code), str(code))  # a label (部分) is as good as its code
            if code not in codes:
                shown = "、".join(f"{c} ({z})" for c, z in label.labels.items()) if label else ""
                raise TableError(f"{path}: values.{fact}.{spelling}: {code!r} is not one of {shown}")
            spec.values.setdefault(fact, {})[str(spelling)] = code


def _map_sites(spec: ColumnSpec, path: Path, spellings: Mapping[str, Any]) -> None:
    for spelling, target in spellings.items():
        if target is None:
            spec.notes.append(note("mapping_unchosen", file=str(path), key=f"values.site.{spelling}"))
            continue
        site = spec.site(str(target))
        if site is None:
            hint = spec.near_site(str(target))
            raise TableError(f"{path}: values.site.{spelling}: {target!r} is not a site in sites.yaml"
                             + did_you_mean([hint] if hint else []))
        spec.sites[_site_key(str(spelling))] = site


def suggestion_file(spec: ColumnSpec, fates: Iterable[Any], values: Mapping[str, Counter[str]],
                    yes_no: Counter[str], sites: Mapping[str, int], sources: Iterable[str]) -> str:
    """A mapping file for a person to review: each header not read, each spelling not known and each site
    not found, with houfu's suggestion (or null where it has none), and why, as YAML comments."""
    import yaml

    def quote(text: str) -> str:
        return str(yaml.safe_dump(text, allow_unicode=True).strip().removesuffix("...").strip())

    lines = ["# A column mapping drafted by houfu screen --suggest-columns from:"]
    lines += [f"#   {s}" for s in sources]
    lines += ["# Review every line: a suggestion is houfu's guess, not a reading. Replace each null, or delete the",
              "# line; write ignore for a column to leave out on purpose. Then: houfu screen ... --columns THIS_FILE"]
    header_lines = []
    seen: set[str] = set()
    for f in fates:
        if f.fate != "not_read" or norm(f.header) in seen:
            continue
        seen.add(norm(f.header))
        if f.field is not None:
            level = next((lv for lv in LEVELS if f.field in spec.headers[lv].values()), "household")
            header_lines.append(f"  {quote(f.header)}: {f.field}   # suggested ({spec.label(level, f.field)}); "
                                f"check the column means this   [{f.source}]")
        else:
            header_lines.append(f"  {quote(f.header)}: null   # no field is close: a field name, or ignore   "
                                f"[{f.source}]")
    lines += ["headers:" if header_lines else "headers: {}", *header_lines]
    value_lines: list[str] = []
    for fact, counts in values.items():
        label = spec.kb.fact_labels.get(fact)
        allowed = "、".join(f"{c} ({z})" for c, z in label.labels.items()) if label else ""
        value_lines.append(f"  {fact}:   # one of {allowed}")
        spell = spec.spellings(fact)
        for spelling, n in counts.most_common():
            near = suggest(spelling, [s for s, c in spell.items() if c])
            guess = spell[near[0]] if near else None
            value_lines.append(f"    {quote(spelling)}: {guess if guess else 'null'}   # {n:,} row(s)"
                               + (f"; suggested, close to {near[0]}" if near else ""))
    if yes_no:
        shown = ", ".join(f"{quote(w)} ({n:,} row(s))" for w, n in yes_no.most_common())
        value_lines += [f"  # yes/no words houfu does not know: {shown}",
                        "  # put each under yes_words, no_words or unknown_words",
                        "  yes_words: []", "  no_words: []", "  unknown_words: []"]
    if sites:
        value_lines.append("  site:   # a site named in sites.yaml (its name or an alias)")
        for name, n in sorted(sites.items(), key=lambda kv: -kv[1]):
            site = spec.near_site(name)
            value_lines.append(f"    {quote(name)}: {quote(site) if site else 'null'}   # {n:,} household(s)"
                               + ("; suggested, not taken until you confirm it" if site else ""))
    lines += ["values:" if value_lines else "values: {}", *value_lines]
    return "\n".join(lines) + "\n"
