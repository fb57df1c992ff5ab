"""Readings checked by machine: words, not characters (issue 19, item 7).

A quote is cut into words with jieba, so 可持续 is not 可, 应保尽保 is not 应 and 同等 is not the 等 of an open
list.  The force rubric (policies/force_rubric.yaml) reads a force and the modalities it allows from the
quote's first trigger word; ``kb validate`` compares it with the measure.  The segmenter is loaded once per
process, and only when a reading is asked for: loading the knowledge base does not need it.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from .models import Force, ForceRubric, Modality, TriggerGroup

__all__ = ["Reading", "Word", "content_words", "force_reading", "words", "open_list_marks"]

#: Cited titles and quoted names: a verb inside them (《…支持…》, “十二项推动”) is not the sentence's verb.
_SET_ASIDE = re.compile(r"《[^》]*》|“[^”]*”")

#: Part-of-speech tags (jieba) of the words a gloss may not add: nouns and verbs of substance.
_CONTENT_TAGS = ("n", "v", "vn", "nz", "nt", "ns", "nr", "l", "i", "j")
#: Verbs with no content of their own (have, be, do, make…): a gloss may use them freely.
_LIGHT = {"是", "有", "为", "使", "让", "进行", "作为", "成为", "给", "给予", "予以", "得到", "会", "能", "可",
          "可以", "要", "应", "把", "将", "被", "由", "对", "在", "用", "到"}


@dataclass(frozen=True)
class Word:
    text: str
    tag: str
    start: int


@dataclass(frozen=True)
class Reading:
    """What the rubric reads from a quote: the word, its force and the modalities it allows."""

    word: str
    force: Force
    modalities: tuple[Modality, ...]
    kind: str  # modal, floor or verb


_lock = threading.Lock()
_tokenizers: dict[Any, Any] = {}


def _tokenizer(compounds: tuple[str, ...], split: tuple[tuple[str, ...], tuple[str, ...]]) -> Any:
    """A jieba part-of-speech tokenizer taught the rubric's compounds and cutting words that hold a trigger,
    built once per rubric."""
    with _lock:
        tok = _tokenizers.get((compounds, split))
        if tok is None:
            with warnings.catch_warnings():  # jieba may import pkg_resources, deprecated in new setuptools
                warnings.simplefilter("ignore")
                import jieba
                import jieba.posseg
            jieba.setLogLevel(logging.WARNING)
            base = jieba.Tokenizer()
            base.initialize()
            # The dictionary joins a trigger to what follows or precedes it (严格控制, 大力发展, 积极引导):
            # cut such words, so the trigger stands as a word of its own.
            triggers, intensifiers = split
            heads = tuple(t for t in triggers if len(t) >= 2) + intensifiers
            for w in [w for w in base.FREQ if len(w) > 2 and w.startswith(heads) and w not in compounds]:
                base.del_word(w)
            for w in compounds:
                base.add_word(w, freq=100000)
            tok = jieba.posseg.POSTokenizer(base)
            _tokenizers[(compounds, split)] = tok
        return tok


def words(text: str, rubric: ForceRubric, set_aside: bool = True) -> list[Word]:
    """The words of ``text`` with their part of speech; titles and quoted names blanked when ``set_aside``."""
    if set_aside:
        text = _SET_ASIDE.sub(lambda m: " " * len(m.group(0)), text)
    triggers = tuple(w for g in (*rubric.modal, *rubric.floors, *rubric.verbs) for w in g.words)
    tok = _tokenizer(tuple(rubric.compounds.words), (triggers, tuple(rubric.intensifiers.words)))
    out, pos = [], 0
    for pair in tok.cut(text, HMM=True):
        w, tag = pair.word, pair.flag
        out.append(Word(w, tag, pos))
        pos += len(w)
    return [w for w in out if w.text.strip()]


_CLAUSE_END = {",", ";", ":", "\u3002", "\uff0c", "\uff1b", "\uff1a"}  # ,;: and 。,;: (full width)


def _clauses(ws: list[Word]) -> list[list[Word]]:
    out: list[list[Word]] = [[]]
    for w in ws:
        if w.text in _CLAUSE_END:
            out.append([])
        else:
            out[-1].append(w)
    return [c for c in out if c]


def _in_clause(clause: list[Word], groups: list[TriggerGroup], kind: str, lead: set[str]) -> Reading | None:
    """The first word of ``groups`` in one clause.  A group marked ``heads_clause`` (支持, 引导) counts only as
    the clause's verb: nothing but adverbs, conjunctions and intensifiers before it (支持在安置点设立…, not
    纳入…专项债券支持范围 or 延续支持…的政策)."""
    table = {w: g for g in groups for w in g.words}
    for i, w in enumerate(clause):
        g = table.get(w.text)
        if g is None:
            continue
        if g.heads_clause and not all(p.tag.startswith(("d", "c")) or p.text in lead for p in clause[:i]):
            continue
        return Reading(w.text, g.force, tuple(g.modalities), kind)
    return None


def force_reading(quote: str, rubric: ForceRubric) -> Reading | None:
    """The rubric's reading of a quote: its first strong modal word (要, 应, 确保, 不得, 可), wherever it stands;
    else, from the first clause that holds one, the clause's encouraging verb heading it (鼓励, 支持), its
    counted floor (不少于) or its first bare directive verb.  None when the quote holds no trigger word."""
    ws = words(quote, rubric)
    strong = {w: g for g in rubric.modal if not g.heads_clause for w in g.words}
    for w in ws:  # a strong modal word (要, 应, 确保, 不得, 可) governs the serial verbs after it, in any clause
        if w.text in strong:
            g = strong[w.text]
            return Reading(w.text, g.force, tuple(g.modalities), "modal")
    lead = set(rubric.intensifiers.words) | {w for g in rubric.modal for w in g.words}
    heads = [g for g in rubric.modal if g.heads_clause]
    for clause in _clauses(ws):
        found = (_in_clause(clause, heads, "modal", lead) or _in_clause(clause, rubric.floors, "floor", lead)
                 or _in_clause(clause, rubric.verbs, "verb", lead))
        if found is not None:
            return found
    return None


def open_list_marks(quote: str, rubric: ForceRubric) -> list[int]:
    """Where 等 stands as a word of its own (…托育等服务), not inside 同等, 等级, 等待 or 均等化."""
    return [w.start for w in words(quote, rubric, set_aside=False) if w.text in ("等", "等等")]


def content_words(text: str, rubric: ForceRubric) -> list[str]:
    """The words of substance in a zh gloss: nouns and verbs, without light verbs and one-character words; and
    any trigger word of the rubric whatever its tag (a gloss that adds 尊重 or 引导 changes the reading)."""
    triggers = {w for g in (*rubric.modal, *rubric.floors, *rubric.verbs) for w in g.words}
    out = []
    for w in words(text, rubric, set_aside=False):
        if w.text not in triggers and (len(w.text) < 2 or w.text in _LIGHT or not w.tag.startswith(_CONTENT_TAGS)):
            continue
        out.append(w.text)
    return out
