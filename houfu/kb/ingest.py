"""Drafting a new document's knowledge base from its scraped text: the analysis behind ``houfu kb scaffold``.

Pure functions from text to draft structures; nothing here writes files (``houfu/authoring/scaffold.py`` does). Every
result is a guess for a person to review: page chrome and repairs are proposed, never applied silently;
clause numbers follow the 公文 hierarchy (一、 / (一) / 1. / (1) / ① / 一是); responsibility lists are read body
by body with their roles and resolved against the body registry; every number becomes a draft parameter
with its unit and bound; each sentence becomes a draft measure with a force guessed from its modal words.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from .loader import KB
from .models import Force, ForceRubric, Modality, Subject, UnitDef
from .readings import force_reading

__all__ = ["Draft", "DraftBody", "DraftDeadline", "abbreviates", "draft_deadlines", "DraftClause", "DraftMeasure", "DraftParameter", "DraftResponsibility", "Guess",
           "analyse", "chrome_guesses", "draft_metadata", "draft_parameters", "draft_title", "first_listed_leads", "level_of", "metadata_row", "outline", "parse_responsibility"]

_CN = "〇零一二三四五六七八九十百"
_CN_VALUE = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_number(text: str) -> int:
    """一 -> 1, 十二 -> 12, 二十 -> 20 (the numbers of a document's parts)."""
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_VALUE[tens] if tens else 1) * 10 + (_CN_VALUE[ones] if ones else 0)
    return _CN_VALUE.get(text, 0)


def cn_numeral(n: int) -> str:
    """1 -> 一, 12 -> 十二, 20 -> 二十."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + ("" if ones == 0 else digits[ones])


@dataclass
class Guess:
    """A line or fragment proposed for review: chrome to drop, or a repair (scraped -> repaired)."""

    scraped: str
    repaired: str | None
    reason: str
    line: int  # 1-based line of the scraped file


# --- page chrome ----------------------------------------------------------------------------------------------

#: Lines a government web page wraps around a document, by what gives them away.
_CHROME = [
    (re.compile(r"(当前位置|所在位置)\s*[:\uff1a]"), "breadcrumb navigation"),
    (re.compile(r"^\s*(首页|网站首页|主页)\s*[>›»/]|(\S+\s*[>›»]\s*){2,}\S+$"), "breadcrumb navigation"),
    (re.compile(r"转载|转发|分享[到至]?\s*[:\uff1a]|微信|微博|QQ空间|扫一扫|手机(?:打开|浏览)|打印本页|关闭窗口|"
                r"【\s*(?:打印|关闭|收藏|大|中|小)\s*】|^字号\s*[:\uff1a]|^\[?\s*(?:打印|关闭)\s*\]?$"),
     "repost, share or print bar"),
    (re.compile(r"^(访问量|浏览次数|点击数|阅读次数)\s*[:\uff1a]?\s*\d*$"), "page visit counter"),
    (re.compile(r"^(日期|发布时间|发布日期|时间)\s*[:\uff1a]\s*\d{4}-\d{1,2}-\d{1,2}"), "page date (the signing date is in the text)"),
    (re.compile(r"^(来源|信息来源|作者)\s*[:\uff1a]"), "page source line"),
    (re.compile(r"关怀版|无障碍|字体\s*[:\uff1a]?\s*[大中小]|【?打印】?$|分享到|^关闭$|^关注$|^收藏$"), "page toolbar"),
    (re.compile(r"^(相关文章|相关链接|上一篇|下一篇)"), "related-articles footer"),
    (re.compile(r"主办单位|主管单位|承办单位|ICP备|公网安备|网站标识码|技术支持|网站地图|联系电话\s*[:\uff1a]|门户网站$|"
                r"^(?:版权所有|Copyright)"), "site header or footer"),
    (re.compile(r"(?i)app|棋牌|开户|娱乐|博彩|彩票|亚博|博狗"), "spam injected into the page"),
]


#: The fields of a government site's metadata table (政府信息公开 pages), by their labels.
_META_FIELDS = {"索引号": "index_number", "信息索引号": "index_number", "发布机构": "issuer", "发文机关": "issuer",
                "发文单位": "issuer", "发布单位": "issuer", "成文日期": "signed", "发文日期": "signed",
                "发布日期": "published", "公开日期": "published", "生效日期": "in_force_from", "文号": "doc_number",
                "发文字号": "doc_number", "文件编号": "doc_number", "主题分类": "topic", "主题词": "topic",
                "体裁分类": "genre", "公文种类": "genre", "组配分类": "category", "有效性": "validity",
                "标题": "title", "名称": "title", "文件名称": "title", "信息名称": "title"}
#: A label as tables print it, its characters spaced out or not (索 引 号, 文  号).
_META_LABEL = re.compile("(" + "|".join("[ \u3000\xa0]*".join(label) for label in sorted(_META_FIELDS, key=len, reverse=True))
                         + r")\s*(?:[:\uff1a|]|$)")
#: Fields only a metadata table has: one of them on a line makes it a table row, not a sentence of the text.
_TITLE_END = re.compile(r"(方案|意见|办法|规划|措施|细则|计划|通知|决定|规定|要点|清单)$")
_META_ONLY = {"index_number", "issuer", "signed", "published", "topic", "genre", "category", "validity"}


def metadata_row(line: str) -> dict[str, str]:
    """The fields of one row of a page's metadata table (``索 引 号: | 000014349/2023-1274028 | 成文日期: | …``),
    by field name; empty for a line that is not such a row."""
    text = line.strip()
    labels = [m for m in _META_LABEL.finditer(text)
              if m.start() == 0 or text[m.start() - 1] in " |\t\u3000:\uff1a"]
    if not labels or labels[0].start() != 0:
        return {}
    fields = [_META_FIELDS[re.sub(r"[ \u3000\xa0]", "", m.group(1))] for m in labels]
    value = text[labels[0].end():].strip(" |\t\u3000:\uff1a")
    alone = (fields[0] in _META_ONLY or (fields[0] == "doc_number" and _ANY_DOC_NUMBER.fullmatch(value) is not None)
             or (fields[0] == "title" and _TITLE_END.search(value) is not None))
    if len(labels) < 2 and not alone:
        return {}
    out: dict[str, str] = {}
    for k, m in enumerate(labels):
        end = labels[k + 1].start() if k + 1 < len(labels) else len(text)
        value = text[m.end():end].strip(" |\t\u3000:\uff1a")
        if value and fields[k] not in out:
            out[fields[k]] = value
    return out


def chrome_guesses(lines: list[str]) -> list[Guess]:
    """The page's own lines (navigation, counters, footers, share bars, metadata tables, injected spam),
    proposed for removal.  A metadata table's values are read by ``draft_metadata`` before it is dropped."""
    out = []
    for i, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or len(text) > 160:
            continue
        if metadata_row(text):
            out.append(Guess(text, None, "the page's metadata table (索引号, 发布机构, 成文日期, 文号…); its values "
                                         "are read into document.yaml", i))
            continue
        if len(text) > 120:
            continue
        for pattern, reason in _CHROME:
            if pattern.search(text):
                out.append(Guess(text, None, reason, i))
                break
    return out


# --- scrape damage -> proposed repairs ------------------------------------------------------------------------

#: Brackets as either form: ASCII, and the full-width ones a document typed in Chinese uses.
_OPEN, _CLOSE = "(\uff08", ")\uff09"
_BARE_DATE = re.compile(r"^(\d{4})(\d{1,2})(\d{1,2})$")
_BARE_DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{2,6}发)(20\d{2})(\d{1,3})(?=[)\uff09])")


def _date_reading(y: str, rest: str) -> str | None:
    """2019 + 916 -> 2019年9月16日: the one split of the digits that is a real date, if only one is."""
    readings = []
    for k in range(1, len(rest)):
        mo, d = int(rest[:k]), int(rest[k:])
        if 1 <= mo <= 12 and 1 <= d <= 31 and not rest[k:].startswith("0") and not rest[:k].startswith("0"):
            readings.append(f"{y}年{mo}月{d}日")
    return readings[0] if len(readings) == 1 else None


def damage_guesses(lines: list[str], title: str | None) -> list[Guess]:
    """Likely scrape damage, each with a proposed repair (or None where a person must decide), and why:
    a date or 文号 that lost its characters, a line broken in two, a title that lost its end, a bracket
    without its pair."""
    out: list[Guess] = []
    body = [(i, ln.strip()) for i, ln in enumerate(lines) if ln.strip()]
    for k, (i, text) in enumerate(body):
        m = _BARE_DATE.match(text)
        if m and 2000 <= int(m.group(1)) <= 2100:
            reading = _date_reading(m.group(1), m.group(2) + m.group(3))
            if reading:
                out.append(Guess(text, reading, "the date lost its 年/月/日; the only reading of the digits", i + 1))
        for d in _BARE_DOC_NUMBER.finditer(text):
            out.append(Guess(d.group(0), f"{d.group(1)}〔{d.group(2)}〕{d.group(3)}号",
                             "a document number (文号) lost its brackets 〔〕 and 号", i + 1))
        if title and text != title and len(text) >= 8 and title.startswith(text) and k + 1 < len(body):
            nxt = body[k + 1][1]
            out.append(Guess(f"{text}\n{nxt[:8]}", f"{title}\n{nxt[:8]}",
                             "the title lost its last words; the notice gives it in full", i + 1))
        opens, closes = sum(text.count(o) for o in _OPEN), sum(text.count(c) for c in _CLOSE)
        if opens != closes and len(text) > 20:
            j = next((n for n, ch in enumerate(text) if ch in _CLOSE and sum(text[:n].count(o) for o in _OPEN)
                      < sum(text[:n + 1].count(c) for c in _CLOSE)), None)
            if j is not None:
                out.append(Guess(text[max(0, j - 8):j + 4], None, "a closing bracket without its opening one: "
                                 "a word was lost here; read the sentence and restore it", i + 1))
        if (k + 1 < len(body) and 1 <= len(body[k + 1][1]) <= 14 and not text.endswith(tuple(_END + ",\uff0c:\uff1a、"))
                and not _PART.match(body[k + 1][1]) and not _ITEM.match(body[k + 1][1])
                and not _NUMBERED.match(body[k + 1][1]) and not _DATE.search(body[k + 1][1])
                and not _BARE_DATE.match(body[k + 1][1]) and not _DOC_NUMBER.fullmatch(body[k + 1][1])
                and not _LABEL_LINE.match(body[k + 1][1]) and not _LABEL_LINE.match(text)
                and len(text) >= 4 and not text.startswith("附")):
            nxt = body[k + 1][1]
            if _fixed(text) or _fixed(nxt):
                continue  # a 文号 or a date is a line of its own: never joined to the issuer beside it
            if _BARE_SUFFIX.fullmatch(nxt) or not (_whole(text) or _whole(nxt)):
                out.append(Guess(f"{text[-4:]}\n{nxt}", f"{text[-4:]}{nxt}",
                                 "one line broken in two by the page layout", i + 1))
            # else two names each whole (two issuers, 县委办公室 and 县政府办公室): never fused
    return out


#: How a body's name ends (县人民政府, …办公室, 县人社局): a line that ends so may be a whole name.
_ORG_END = re.compile(r"(政府|办公室|办公厅|委员会|领导小组|局|厅|委|办|院|中心|公司)$")
_PLACE = re.compile(r"^(中共)?[\u4e00-\u9fff]{1,12}?(省|自治区|市|州|盟|地区|县|区|旗)")


#: What is left of a name broken after its place's body (信丰县人民政府 / 办公室): it cannot stand alone.
_BARE_SUFFIX = re.compile(r"(办公室|办公厅|委员会|领导小组办公室|人民政府|政府|[\u4e00-\u9fff]{0,10}领导小组办公室)")


def _fixed(line: str) -> bool:
    """A 文号 or a date: a line of its own, never half of a broken one (沅政办函〔2024〕32号 above its issuer)."""
    return bool(_DOC_NUMBER.search(line) or _ANY_DOC_NUMBER.search(line) or _DATE.search(line)
                or _ISO_DATE.search(line))


def _whole(line: str) -> bool:
    """A body's name with its place (沅陵县人民政府办公室): whole on its own."""
    return bool(_PLACE.match(line) and _ORG_END.search(line))


# --- the outline: parts and clauses by their numbering ---------------------------------------------------------

_PART = re.compile(rf"^([{_CN}]+)、\s*(.*)$")
_ITEM = re.compile(rf"^[(\uff08]([{_CN}]*)[)\uff09]\s*(.*)$")
_NUMBERED = re.compile(r"^(\d{1,2})[.．、](?!\d)\s*(.*)$")
_SUB = re.compile(r"^[(\uff08](\d{1,2})[)\uff09]\s*(.*)$|^([①②③④⑤⑥⑦⑧⑨⑩])\s*(.*)$")
_END = "。;\uff1b!\uff01?\uff1f"


@dataclass
class DraftClause:
    number: str  # as the document numbers it: 序言, 一, 二(一), 4
    part: str  # the part's number (序言 for the opening)
    heading: str
    text: str
    line: int


@dataclass
class Outline:
    parts: list[tuple[str, str]]  # (number, heading)
    clauses: list[DraftClause]
    repairs: list[Guess]
    problems: list[str]  # gaps and duplicates in the numbering


def _heading(text: str) -> str:
    """The item's heading: its words up to the first full stop (推动一体化建设。积极… -> 推动一体化建设)."""
    head = re.split(r"[。;\uff1b]", text, maxsplit=1)[0]
    return head if len(head) <= 40 else head[:40]


def outline(lines: list[str], start: int = 0) -> Outline:
    """Split the body (``lines[start:]``, already free of chrome) into parts and clauses by their numbering.

    A part with items has one clause per item (二(一), or 4 where items are numbered through the document); a
    part without items is one clause (一). Lines before the first part are the opening (序言). A lost numeral,
    "()推动…" or a part heading with no "六、", is proposed as a repair from its neighbours."""
    parts: list[tuple[str, str]] = []
    clauses: list[DraftClause] = []
    repairs: list[Guess] = []
    problems: list[str] = []
    part_no, part_n, item_n, last_numbered = "序言", 0, 0, 0
    current: DraftClause | None = None
    body = [(i, ln.strip()) for i, ln in enumerate(lines) if i >= start and ln.strip()]
    # The closing inscription (issuer and date after the last item, 昭觉县人民政府办公室 / 2023年11月20日) signs
    # the document; it is no part of the last clause.
    if body and _DATE.fullmatch(body[-1][1]):
        body.pop()
        while body and _whole(body[-1][1]) and len(body[-1][1]) <= 30:
            body.pop()

    def close() -> None:
        if current is not None:
            clauses.append(current)

    for k, (i, text) in enumerate(body):
        nxt = body[k + 1][1] if k + 1 < len(body) else ""
        m = _PART.match(text)
        lost_part = (not m and len(text) <= 25 and not any(ch in text for ch in _END + ",\uff0c")
                     and part_n > 0 and (_NUMBERED.match(nxt) or _ITEM.match(nxt)) is not None
                     and not _NUMBERED.match(text) and not _ITEM.match(text) and not _LABEL_LINE.match(text))
        if m or lost_part:
            numeral = m.group(1) if m else cn_numeral(part_n + 1)
            heading = (m.group(2) if m else text).strip()
            if lost_part:
                repairs.append(Guess(text, f"{numeral}、{text}", f"part number {numeral}、 lost; it follows part "
                                     f"{cn_numeral(part_n)}", i + 1))
            n = cn_number(numeral)
            if n != part_n + 1:
                problems.append(f"line {i + 1}: part {numeral} follows part {cn_numeral(part_n) if part_n else '-'}")
            close()
            part_no, part_n, item_n = numeral, n, 0
            parts.append((numeral, heading))
            current = DraftClause(numeral, numeral, heading, "", i + 1)
            continue
        m_item = _ITEM.match(text)
        if m_item and part_n:
            numeral = m_item.group(1)
            if not numeral:
                numeral = cn_numeral(item_n + 1)
                close_at = 1 + next(k for k, ch in enumerate(text[1:]) if ch in _CLOSE)
                # the repair keeps the document's own brackets, ASCII or full-width
                repairs.append(Guess(text[:12], f"{text[0]}{numeral}{text[close_at:12]}",
                                     f"item number lost; it is item {numeral} of part {part_no}", i + 1))
            n = cn_number(numeral)
            if n != item_n + 1:
                problems.append(f"line {i + 1}: item ({numeral}) of part {part_no} follows ({cn_numeral(item_n)})")
            item_n = n
            if current is not None and current.number == part_no and current.text:
                close()  # the part's own lead-in paragraph is kept as the part's clause
            elif current is not None and current.number != part_no:
                close()
            # The text keeps the document's own bracket (ASCII or full-width); the number is written ASCII.
            current = DraftClause(f"{part_no}({numeral})", part_no, _heading(m_item.group(2)),
                                  text if m_item.group(1) else f"({numeral}){m_item.group(2)}", i + 1)
            continue
        m_num = _NUMBERED.match(text)
        if m_num and part_n and current is not None and "(" in current.number:
            # 1. under an item (一) is a sub-item: it stays in the item's text, with its own number
            current.text = current.text + "\n" + text
            continue
        if m_num and part_n:
            n = int(m_num.group(1))
            if n != last_numbered + 1:
                problems.append(f"line {i + 1}: item {n}. follows {last_numbered}.")
            last_numbered = n
            if current is not None and (current.number != part_no or current.text):
                close()
            current = DraftClause(str(n), part_no, _heading(m_num.group(2)), text, i + 1)
            continue
        if current is None:
            current = DraftClause("序言", "序言", "序言", text, i + 1)
        else:
            current.text = current.text + text if not current.text else current.text + "\n" + text
    close()
    # A part whose items follow at once has no clause of its own.
    clauses = [c for c in clauses if c.text]
    seen: set[str] = set()
    for c in clauses:
        if c.number in seen:
            problems.append(f"clause {c.number} appears twice")
        seen.add(c.number)
    return Outline(parts, clauses, repairs, problems)


# --- responsibility lists --------------------------------------------------------------------------------------

@dataclass
class DraftBody:
    as_written: str
    role: str  # lead | shared
    body: str | None  # the registry's id, when the name or an alias resolves
    candidates: list[str] = field(default_factory=list)  # ids it could be, when ambiguous


@dataclass
class DraftResponsibility:
    list_text: str
    bodies: list[DraftBody]
    form: str  # which wording: trailing_list, mixed, labelled, line
    #: what the grammar could not read (a name holding a role word, a name with no role): for a person
    problems: list[str] = field(default_factory=list)
    open_list: bool = False  # the list ends in 等: it names some of the bodies, not all
    basis: str | None = None  # the preamble's convention the roles were read by, quoted


# A responsibility list is read as a grammar, not matched against phrasings (issue 26, item 3): a sequence of
# body names and role markers.  A label (牵头单位:) sets the role of the names after it, up to the next label; a
# marker after a name (X牵头, Y、Z配合, …按职责分工负责) sets the role of that name and of every name before it
# that has none yet.  Longest markers first, so 牵头负责 is not 负责.
_LABELS = {"牵头单位": "lead", "牵头部门": "lead", "配合单位": "shared", "配合部门": "shared", "协同单位": "shared",
           "协同部门": "shared", "参与单位": "shared", "责任单位": "shared", "责任部门": "shared"}
_MARKERS = [("牵头指导推进", "lead"), ("牵头推进", "lead"), ("牵头负责", "lead"), ("牵头落实", "lead"),
            ("牵头抓总", "lead"), ("牵头", "lead"), ("按职责分工负责", "shared"), ("按职责分工落实", "shared"),
            ("按职责负责", "shared"), ("分别负责", "shared"), ("共同负责", "shared"), ("负责落实", "shared"),
            ("配合", "shared"), ("协同", "shared"), ("参与", "shared"), ("负责", "shared")]
#: Words no body's name holds: a name that still holds one after the grammar has read it is not read fully.
_ROLE_WORDS = re.compile(r"牵头|负责|配合|协同|参与|推进|指导|落实|按职责|单位[:\uff1a]|[。!?\uff01\uff1f]")
_LABEL = re.compile(r"^(" + "|".join(_LABELS) + r")\s*[:\uff1a]\s*")
_LABEL_LINE = re.compile(r"^(?:" + "|".join(_LABELS) + r")\s*[:\uff1a]")
_PAREN_TAIL = re.compile(r"[(\uff08]([^()\uff08\uff09]*)[)\uff09]\s*[。;\uff1b]?$")
_SPLIT = re.compile(r"[、,\uff0c;\uff1b]")
_TAIL_STOP = "。;\uff1b,\uff0c、 "
#: The preamble's convention that the first body listed leads (项目分工列在首位的为牵头单位,其他为主要参加单位).
_FIRST_LEADS = re.compile(r"[^。\n]*(?:列在首位|排在首位|列首位|排名第一|排在第一|第一个)[^。\n]{0,8}(?:为|是)牵头(?:单位|部门)"
                          r"[^。\n]*")


def first_listed_leads(text: str) -> str | None:
    """The sentence where a document says the first body it lists leads, if it says so."""
    m = _FIRST_LEADS.search(text)
    return m.group(0).strip() if m else None


def _names(text: str) -> list[str]:
    return [n.strip() for n in _SPLIT.split(text) if n.strip()]


def _read_list(content: str) -> tuple[list[tuple[str, str | None]], list[str], bool, bool]:
    """Names with their roles (None: no marker or label gave one), problems, whether it ends in 等, and
    whether a label was used."""
    pairs: list[tuple[str, str | None]] = []
    problems: list[str] = []
    open_list = labelled = False
    label_role: str | None = None
    for segment in (s.strip() for s in re.split(r"[;\uff1b\n]", content)):
        segment = segment.strip(_TAIL_STOP)
        m = _LABEL.match(segment)
        if m:
            label_role, labelled = _LABELS[m.group(1)], True
            segment = segment[m.end():]
        for raw in _names(segment):
            name, role = raw.rstrip(_TAIL_STOP), label_role
            for marker, marked in _MARKERS:
                if name.endswith(marker) and len(name) > len(marker):
                    name, role = name[: -len(marker)].rstrip(_TAIL_STOP), marked
                    # the names before it that no marker or label has given a role share this one
                    k = len(pairs)
                    while k and pairs[k - 1][1] is None:
                        k -= 1
                        pairs[k] = (pairs[k][0], marked)
                    break
            if name.endswith("等") and len(name) > 2:
                name, open_list = name[:-1], True
            pairs.append((name, role))
    for name, role in pairs:
        if _ROLE_WORDS.search(name) or len(name) > 25 or not name:
            problems.append(f"{name!r} is not read as a body's name")
        elif role is None:
            problems.append(f"{name!r} has no role (no 牵头, 配合, 负责 or label names one)")
    return pairs, problems, open_list, labelled


def abbreviates(short: str, full: str) -> bool:
    """县人社局 abbreviates 县人力资源和社会保障局: same first and last character, and the short name's characters
    appear in the long one in order."""
    if len(short) >= len(full) or short[0] != full[0] or short[-1] != full[-1]:
        return False
    it = iter(full)
    return all(ch in it for ch in short)


def resolve(kb: KB | None, written: str, jurisdiction: str | None) -> tuple[str | None, list[str]]:
    """A name as written -> the body id, scoped to the jurisdiction when more than one body answers to it."""
    if kb is None:
        return None, []
    ids = [b.id for b in kb.bodies.values() if written == b.name or written in b.aliases
           or written == b.full_name]
    if jurisdiction:
        local = [i for i in ids if kb.bodies[i].jurisdiction == jurisdiction]
        ids = local or [i for i in ids if kb.bodies[i].jurisdiction is None]
    else:
        # Without a jurisdiction a county's body is no one's (issue 26, item 5): only a body of no
        # jurisdiction resolves; the county bodies of that name are candidates, asked about, never assumed.
        unscoped = [i for i in ids if kb.bodies[i].jurisdiction is None]
        if len(unscoped) == 1:
            return unscoped[0], []
        return None, ids
    return (ids[0], []) if len(ids) == 1 else (None, ids)


def _list_at_end(text: str) -> tuple[str, str] | None:
    """The list a clause ends with, verbatim, and its content: label lines (牵头单位:X。 / 配合单位:Y。), or a
    parenthesised list holding a role marker or label at the end of its last line."""
    lines = text.rstrip().splitlines()
    k = len(lines)
    while k and _LABEL_LINE.match(lines[k - 1].strip()):
        k -= 1
    if k < len(lines):
        block = "\n".join(lines[k:])
        return block, "\n".join(ln.strip() for ln in lines[k:])
    last = lines[-1] if lines else ""
    m = _PAREN_TAIL.search(last)
    if m and first_listed_leads(m.group(1)) is None and (
            any(mark in m.group(1) for mark, _ in _MARKERS) or _LABEL.match(m.group(1).strip())):
        return m.group(0), m.group(1)
    return None


def parse_responsibility(text: str, kb: KB | None = None, jurisdiction: str | None = None,
                         first_leads: str | None = None) -> DraftResponsibility | None:
    """The responsibility list a clause ends with, body by body with roles, read by the grammar above.

    ``first_leads`` is the document's own convention (``first_listed_leads``): in a list whose names all share
    one generic role (责任单位:, …按职责分工负责) the first listed leads and the others share, as it says.  A list
    the grammar cannot read fully keeps what it read and says what it could not in ``problems``."""
    found = _list_at_end(text)
    if found is None:
        return None
    list_text, content = found
    pairs, problems, open_list, labelled = _read_list(content)
    if not pairs:
        return None
    basis = None
    roles = {r for _, r in pairs}
    if first_leads and roles == {"shared"} and len(pairs) > 1:
        pairs = [(pairs[0][0], "lead"), *((n, "shared") for n, _ in pairs[1:])]
        basis = first_leads
    final = [(n, r or "shared") for n, r in pairs]
    roles = {r for _, r in final}
    line = list_text.lstrip().startswith(tuple(_LABELS))
    form = "line" if line and len(roles) == 1 and not basis else "labelled" if labelled else \
        "mixed" if len(roles) > 1 else "trailing_list"
    r = _responsibility(list_text, final, form, kb, jurisdiction)
    r.problems, r.open_list, r.basis = problems, open_list, basis
    return r


def _responsibility(list_text: str, pairs: list[tuple[str, str]], form: str, kb: KB | None,
                    jurisdiction: str | None) -> DraftResponsibility:
    bodies = []
    for written, role in pairs:
        body, candidates = resolve(kb, written, jurisdiction)
        bodies.append(DraftBody(written, role, body, candidates))
    return DraftResponsibility(list_text, bodies, form)


# --- numbers -> parameters --------------------------------------------------------------------------------------

@dataclass
class DraftParameter:
    value: float
    unit: str  # an id of policies/units.yaml
    bound: str  # min | max | exact | baseline
    text: str  # verbatim in the clause
    unknown_unit: bool = False  # a number the scaffold found no unit for


_DATE_OR_DOC = re.compile(r"〔\d{4}〕\s*\d+\s*号|\d{4}年\d{1,2}月\d{1,2}日")
_MIN = ("不少于", "不低于", "至少", "以上", "最少", "不小于")
_MAX = ("不超过", "最高", "最长", "最多", "以下", "以内", "不高于", "低于", "封顶")
#: Verbs that make 每月/每季度 a frequency of one with no numeral (每月回访: once a month).
_ONCE_VERBS = "回访|走访|开展|召开|组织|调度|通报|排查|研判"
_YEAR_END = re.compile(r"(\d{4})年(底|末)")
#: A target date (到2025年底, 到2025年6月底): when a goal is to be reached, a deadline, never a baseline (issue 26).
_TARGET = re.compile(r"(?<=到)(\d{4})年(?:(\d{1,2})月)?(底|末)(?!前)")
#: A date something is to be done by: 2024年底前, 2024年6月底前, 2025年3月前 (a deadline, never a parameter).
_DEADLINE = re.compile(r"(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?(底|末)?前")


@dataclass
class DraftDeadline:
    date: dt.date  # the last day it may be done on
    text: str  # verbatim in the clause
    reading: str


def draft_deadlines(text: str) -> list[DraftDeadline]:
    """Each date the text sets for something to be done, read as its last day (年底 is 12月31日)."""
    out = []
    for m in _TARGET.finditer(text):  # 到2025年底: the goal's date, its last day
        year, month = int(m.group(1)), int(m.group(2) or 12)
        if 1 <= month <= 12:
            due = dt.date(year, month, calendar.monthrange(year, month)[1])
            out.append(DraftDeadline(due, m.group(0), f"到{m.group(0)}: the date the goal is set for, read as its last "
                                                      f"day ({due.isoformat()}); a target date, not a baseline"))
    for m in _DEADLINE.finditer(text):
        year, month = int(m.group(1)), int(m.group(2) or 12)
        if not 1 <= month <= 12:
            continue
        last = calendar.monthrange(year, month)[1]
        if m.group(3):  # 2024年3月8日前: before that day, so done by the day before it
            day = int(m.group(3))
            if not 1 <= day <= last:
                continue
            due = dt.date(year, month, day) - dt.timedelta(days=1)
            out.append(DraftDeadline(due, m.group(0), f"{m.group(0)}: before that day, so done by {due.isoformat()}"))
            continue
        if m.group(4):  # 年底前, 6月底前: by the period's last day
            out.append(DraftDeadline(dt.date(year, month, last), m.group(0),
                                     f"{m.group(0)}: done by the end of {year}-{month:02d}, read as its last day"))
            continue
        # 3月前, 2025年前: before the month or year begins. Some texts mean by its end: a person must check.
        start = dt.date(year, int(m.group(2) or 1), 1)
        due = start - dt.timedelta(days=1)
        out.append(DraftDeadline(due, m.group(0), f"{m.group(0)}: read as before {start.isoformat()}, so done by "
                                                  f"{due.isoformat()}; if the text means by the end of it, correct it"))
    return out


@dataclass(frozen=True)
class _UnitReader:
    """The regexes for the units of policies/units.yaml: unit words after a number, and frequency words."""

    quantity: re.Pattern[str]
    frequency: re.Pattern[str]
    once: re.Pattern[str] | None
    by_word: dict[str, str]
    by_period: dict[str, str]


@lru_cache(maxsize=8)
def _reader(units: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]) -> _UnitReader:
    by_word = {w: uid for uid, words, _ in units for w in words}
    by_period = {w: uid for uid, _, per in units for w in per}
    words = "|".join(re.escape(w) for w in sorted(by_word, key=len, reverse=True))
    periods = "|".join(re.escape(w) for w in sorted(by_period, key=len, reverse=True)) or "(?!)"
    return _UnitReader(
        quantity=re.compile(rf"(\d+(?:\.\d+)?)\s*(万)?\s*({words})"),
        frequency=re.compile(rf"({periods})([\u4e00-\u9fff]{{0,6}}?)(\d+)\s*次"),
        once=re.compile(rf"({periods})({_ONCE_VERBS})"),
        by_word=by_word, by_period=by_period)


def _key(units: Iterable[UnitDef]) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    return tuple((u.id, tuple(u.words), tuple(u.per)) for u in units)


@cache
def _default_units() -> tuple[UnitDef, ...]:
    from .loader import default_policies_dir, load_units

    return tuple(load_units(default_policies_dir()).values())


def _bound(text: str, start: int, end: int) -> str:
    """min, max or exact, from the words just before or after the number (800人以上, 不超过3年)."""
    before, after = text[max(0, start - 8):start], text[end:end + 3]
    if any(w in after for w in ("以上", "及以上")) or any(before.endswith(w) or w in before[-6:] for w in _MIN):
        return "min"
    if any(w in after for w in ("以下", "以内")) or any(w in before[-6:] for w in _MAX):
        return "max"
    return "exact"


def draft_parameters(text: str, kb: KB | None = None) -> list[DraftParameter]:
    """A draft parameter for every number in the text: its unit (policies/units.yaml, by its words), and its
    bound from the words around it."""
    r = _reader(_key(kb.units.values() if kb is not None else _default_units()))
    out: list[DraftParameter] = []
    # dates, deadlines and 文号 are not numbers
    taken: list[tuple[int, int]] = [d.span() for pattern in (_DATE_OR_DOC, _DEADLINE, _TARGET)
                                    for d in pattern.finditer(text)]
    for m in r.frequency.finditer(text):
        between = m.group(2)
        bound = "min" if any(w in between for w in _MIN) else "max" if any(w in between for w in _MAX) else "exact"
        out.append(DraftParameter(float(m.group(3)), r.by_period[m.group(1)], bound, m.group(0)))
        taken.append(m.span())
    for m in r.once.finditer(text) if r.once else ():  # 每月回访: once a month, at least
        if not any(a <= m.start() < b for a, b in taken):  # not 每半年开展不少于2次, read above
            out.append(DraftParameter(1.0, r.by_period[m.group(1)], "min", m.group(0)))
    for m in _YEAR_END.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        out.append(DraftParameter(float(m.group(1)), "calendar_year_end", "baseline", m.group(0)))
        taken.append(m.span())
    for m in r.quantity.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        value = float(m.group(1)) * (10000 if m.group(2) else 1)
        unit = r.by_word[m.group(3)]
        if unit == "years" and value > 1900:  # 2023年 is a date, not a duration
            continue
        start, end = m.start(), m.end()
        lead = text[max(0, start - 6):start]
        words = [w for w in _MIN + _MAX if w in lead]
        if words:  # from the bound word: 不超过3年, 至少有1项
            start -= len(lead) - max(lead.rfind(w) for w in words)
        tail = next((w for w in ("及以上", "以上", "以下", "以内") if text.startswith(w, end)), "")
        out.append(DraftParameter(value, unit, _bound(text, m.start(), m.end()), text[start:end + len(tail)]))
        taken.append((m.start(), m.end()))
    # Any other number still gets a draft, as a plain count, for a person to give its unit.
    for m in re.finditer(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])", text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        if re.match(r"\d{4}年", text[m.start():]):  # a year: the sentence is a date, kept with its measure
            continue
        out.append(DraftParameter(float(m.group(1)), "count", "exact", m.group(1), unknown_unit=True))
    return out


# --- sentences -> measures ---------------------------------------------------------------------------------------

@dataclass
class DraftMeasure:
    quote: str
    force: Force
    modality: Modality
    subject: Subject
    background: bool = False  # a statement of fact (2016年以来…取得了), proposed as not encoded


#: A sentence that reports what was done rather than says what to do.
_BACKGROUND = re.compile(r"\d{4}年以来|以来[,,]|已经|取得了|成效")


_SENTENCE = re.compile(r"[^。;\uff1b]+[。;\uff1b]?")


def draft_measures(text: str, responsibility: DraftResponsibility | None,
                   rubric: ForceRubric | None = None) -> list[DraftMeasure]:
    """One draft measure per sentence, with force and modality read by the force rubric (the default
    policies' when none is given) and subject guessed from its words."""
    if rubric is None:
        from .validate import _default_rubric

        rubric = _default_rubric()
    body = text[: -len(responsibility.list_text)] if responsibility and text.endswith(responsibility.list_text) else text
    out = []
    lines = body.split("\n")
    # The clause's own label (4. / (一)) is numbering, not part of what it says.
    lines[0] = re.sub(rf"^(?:\d{{1,2}}[.．、]|[(\uff08][{_CN}]*[)\uff09]|[{_CN}]+、)", "", lines[0])
    heading = _heading(lines[0])
    for k, s in enumerate(s for line in lines for s in _SENTENCE.findall(line)):
        quote = s.strip().rstrip("。;\uff1b")
        if len(quote) < 6 or (k == 0 and quote == heading and len(lines[0]) > len(quote) + 1):
            continue  # too short to oblige anyone, or the item's heading (开展技能培训。对…)
        if quote.startswith("各") and quote.endswith((":", "\uff1a")):
            continue  # the notice's addressees (各乡镇人民政府,县直各单位:), not a sentence that directs
        if _BACKGROUND.search(quote):
            out.append(DraftMeasure(quote, Force.directive, Modality.goal, Subject.department, background=True))
            continue
        reading = force_reading(quote, rubric)
        if reading is not None:  # the force rubric (policies/force_rubric.yaml), as `kb validate` reads it
            force, modality = reading.force, reading.modalities[0]
        else:
            force, modality = Force.directive, Modality.obligation
        subject = Subject.household if any(w in quote for w in ("搬迁群众", "搬迁户", "搬迁人口")) else Subject.department
        out.append(DraftMeasure(quote, force, modality, subject))
    return out


# --- metadata ---------------------------------------------------------------------------------------------------

_NOTICE = re.compile(r"关于印发《(.+?)》的通知")
#: 现将《…》印发给你们 / 印发你们 / 印发给你们: the notice names the document it sends.
_SENT = re.compile(r"现将《(.+?)》(?:予以)?印发(?:给)?你们")
#: A bare title line: a name of a document kind, with no sentence punctuation.
_TITLE_LINE = re.compile(r"^[^,,。;;::、!?《》()()]{6,60}(方案|意见|办法|规划|措施|细则|计划|通知|决定|规定|要点|清单)$")
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
#: A 文号 in any of the brackets pages use: 〔2024〕, [2024], (2024), ［2024］, 【2024】.
_ANY_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔\[(\uff08\uff3b【]\d{4}[〕\])\uff09\uff3d】]\s*\d+\s*号")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,8}〔\d{4}〕\d+号")
_PARENT = re.compile(r"《([^》]+)》\s*[(\uff08]([^()\uff08\uff09]*〔\d{4}〕\s*\d+\s*号)[)\uff09]")


def _iso(y: str, mo: str, d: str) -> str | None:
    try:
        return dt.date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None


def draft_title(lines: list[str], table: dict[str, str] | None = None) -> tuple[str | None, str | None]:
    """The document's title and where it was read: 关于印发《…》的通知, 现将《…》印发你们, the metadata table's 标题,
    or a bare title line near the top (…实施方案, …意见)."""
    text = "\n".join(ln.strip() for ln in lines)
    for pattern, where in ((_NOTICE, "关于印发《…》的通知"), (_SENT, "现将《…》印发你们")):
        m = pattern.search(text)
        if m:
            return m.group(1), where
    if table and table.get("title"):
        t = table["title"]
        m = _NOTICE.search(t) or re.search(r"关于印发(.+?)的通知", t)
        return (m.group(1) if m else t), "the page's metadata table"
    for ln in (ln.strip() for ln in lines[:30]):
        if _TITLE_LINE.match(ln) and not _DOC_NUMBER.search(ln) and not _DATE.search(ln):
            m = re.fullmatch(r"关于印发(.+?)的通知", ln)
            return (m.group(1) if m else ln), "a title line"
    return None, None


def level_of(issuer: str | None) -> str | None:
    """province, city or county, from the place the (first) issuer names: 云南省人民政府办公厅 -> province,
    宁夏回族自治区… -> province, 黔东南州… and 怀化市… -> city, 沅陵县…, …区… and …旗… -> county.  Only the place
    before the body's own words counts (自治区 is not a 区, and 县 in a title says nothing of the issuer)."""
    if not issuer:
        return None
    rest, place = re.split(r"[\s、,,]+", issuer.strip())[0], ""
    while (m := _PLACE.match(rest)) is not None:  # 湖南省怀化市沅陵县…: the most local place named
        place, rest = m.group(0), rest[m.end():]
    if not place:
        return None
    if place.endswith(("自治区", "省")):
        return "province"
    if place.endswith(("市", "州", "盟", "地区")):
        return "city"
    return "county"


def draft_metadata(lines: list[str], table: dict[str, str] | None = None) -> dict[str, Any]:
    """Title, signing date, 文号, issuer, level and parent documents, as far as the page's metadata table
    (``table``, from ``metadata_row``), the notice and the text give them.  A 文号 found anywhere in the notice
    is never dropped: one that is not placed as the document's own is listed in ``unplaced_doc_numbers``."""
    table = table or {}
    text = "\n".join(ln.strip() for ln in lines)
    meta: dict[str, Any] = {"title": None, "signed": None, "doc_number": None, "issuer": None, "parents": []}
    meta["title"], meta["title_from"] = draft_title(lines, table)
    dates = list(_DATE.finditer(text))
    if dates:
        y, mo, d = (int(x) for x in dates[0].groups())
        meta["signed"] = f"{y:04d}-{mo:02d}-{d:02d}"
        # The issuer is the line (or two broken lines) just above the date, under the notice.
        before = text[: dates[0].start()].rstrip().splitlines()
        tail = [ln for ln in before[-3:] if ln and not ln.endswith(("。", ":", ":")) and len(ln) < 40
                and not _DOC_NUMBER.search(ln) and not _ANY_DOC_NUMBER.search(ln)]
        if tail:
            meta["issuer"] = tail[-1]
    # Its own 文号 stands on a line of its own in the notice; a parent's is quoted in brackets after its title.
    own = next((ln for ln in text.splitlines()[:40] if _DOC_NUMBER.fullmatch(ln.strip())
                or _ANY_DOC_NUMBER.fullmatch(ln.strip())), None)
    meta["doc_number"] = own.strip() if own else None
    # The metadata table, where the page has one, is the publisher's own record: it wins over guesses.
    if table.get("doc_number") and _ANY_DOC_NUMBER.search(table["doc_number"]):
        meta["doc_number"] = table["doc_number"]
    if table.get("issuer"):
        meta["issuer"] = table["issuer"]
    if table.get("signed"):
        m = _ISO_DATE.search(table["signed"]) or _DATE.search(table["signed"])
        meta["signed"] = (_iso(*m.groups()) if m else None) or meta["signed"]
    meta["table"] = table
    meta["level"] = level_of(meta["issuer"])
    meta["parents"] = [{"title": p.group(1), "doc_number": p.group(2)} for p in _PARENT.finditer(text)]
    parents = {p["doc_number"] for p in meta["parents"]}
    head = "\n".join(text.splitlines()[:40])
    found = {m.group(0).strip() for m in _ANY_DOC_NUMBER.finditer(head)}
    meta["unplaced_doc_numbers"] = sorted(n for n in found if n != meta["doc_number"]
                                          and not any(n in p or p in n for p in parents))
    meta |= execution_period(text, meta.get("signed"))
    meta["convention"] = draft_convention(text)
    return meta


def execution_period(text: str, signed: str | None) -> dict[str, dict[str, str]]:
    """The execution period as the text states it (issue 26, item 2): ``in_force_from`` and ``in_force_until``,
    each {date, quote, reading} where found. 自2024年1月1日起施行 is the start; 自印发之日起 is the signing date;
    执行期至… (or 执行期为…至…) the end, the day included; 有效期N年 ends the day before the Nth anniversary of the
    start. Every one is a draft for a person to check."""
    out: dict[str, dict[str, str]] = {}
    start = _IN_FORCE_FROM.search(text)
    if start and start.group(1):
        day = _iso(*start.group(1, 2, 3))
        if day:
            out["in_force_from"] = {"date": day, "quote": start.group(0), "reading": "the day named, included"}
    elif start and signed:
        out["in_force_from"] = {"date": signed, "quote": start.group(0),
                                "reading": f"{start.group(4)}之日 is read as the signing date ({signed})"}
    end = _IN_FORCE_UNTIL.search(text)
    if end:
        day = _iso(*end.groups()[1:])
        if day:
            out["in_force_until"] = {"date": day, "quote": end.group(0), "reading": "the day named, included"}
        span = _IN_FORCE_SPAN.search(end.group(0))
        if span and "in_force_from" not in out:
            first = _iso(*span.groups())
            if first:
                out["in_force_from"] = {"date": first, "quote": end.group(0), "reading": "the execution period's "
                                        "first day, included"}
        return out
    years = _VALID_YEARS.search(text)
    begin = out.get("in_force_from", {}).get("date") or signed
    if years and begin:
        n = int(years.group(1)) if years.group(1).isdigit() else cn_number(years.group(1))
        day_one = dt.date.fromisoformat(begin)
        try:
            anniversary = day_one.replace(year=day_one.year + n)
        except ValueError:  # 29 February: the anniversary is 1 March
            anniversary = dt.date(day_one.year + n, 3, 1)
        last = anniversary - dt.timedelta(days=1)
        out["in_force_until"] = {"date": last.isoformat(), "quote": years.group(0),
                                 "reading": f"{n} years from {begin}: the day before the anniversary, {last}"}
    return out


#: The execution period's end as the text states it (执行期至2026年12月31日, 有效期至…, 本方案执行至…).
_IN_FORCE_UNTIL = re.compile(r"(执行期|有效期|执行)[^。\n]{0,20}?至(\d{4})年(\d{1,2})月(\d{1,2})日")
#: …and its start, inside the same words (执行期为2024年1月1日至2026年12月31日).
_IN_FORCE_SPAN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日[起]?至")
#: The start: 自2024年1月1日起施行, or 自印发之日起施行 (the signing date).
_IN_FORCE_FROM = re.compile(r"自(?:(\d{4})年(\d{1,2})月(\d{1,2})日|(印发|发布|公布|下发)之日)起?(?:施行|执行|实施|生效)")
#: A validity of whole years from the start: 有效期3年, 有效期为五年.
_VALID_YEARS = re.compile(r"有效期(?:为)?([0-9]+|[一二三四五六七八九十])年")
_BOUND_WORDS = ("及以上", "以上", "以下", "以内", "不少于", "不低于", "不超过", "不高于", "至少", "低于", "高于", "超过")


def draft_convention(text: str) -> dict[str, Any] | None:
    """The text's own statement of how it counts bounds (以上…均含本数,“低于”不含本数), as a draft convention."""
    m = re.search(r"[^。\n]*含本数[^。\n]*", text)
    if not m:
        return None
    sentence = m.group(0)
    split = sentence.find("不含本数")
    def words(part: str) -> list[str]:
        found = [w for w in _BOUND_WORDS if w in part]
        return [w for w in found if not any(w != o and w in o for o in found)]  # 以上, not also 及以上's 以上
    inclusive_part = sentence[:sentence.find("含本数")] if split < 0 or sentence.find("含本数") < split else ""
    exclusive_part = sentence[len(inclusive_part):split] if split >= 0 else ""
    return {"inclusive": words(inclusive_part), "exclusive": words(exclusive_part), "quote": sentence,
            "note": "TODO: read from the text's own statement; check the words"}


# --- the whole draft ------------------------------------------------------------------------------------------

@dataclass
class Draft:
    chrome: list[Guess]
    repairs: list[Guess]
    outline: Outline
    metadata: dict[str, Any]
    responsibilities: dict[str, DraftResponsibility]  # clause number -> its list
    parameters: dict[str, list[DraftParameter]]  # clause number -> drafts
    measures: dict[str, list[DraftMeasure]]
    deadlines: dict[str, list[DraftDeadline]]  # clause number -> dates set in it
    unparsed_lists: list[str]  # clause numbers whose last line looks like a list the scaffold could not read
    source: str  # the text with chrome dropped and the proposed repairs applied (the draft's source.txt)


def _body_start(lines: list[str], title: str | None) -> int:
    """Where the document proper begins: the last line that is its title (the notice quotes it first)."""
    if title:
        hits = [i for i, ln in enumerate(lines) if ln.strip() == title]
        if hits:
            return hits[-1] + 1
    return 0


def _apply(text: str, guesses: list[Guess]) -> tuple[str, list[Guess]]:
    """Apply each proposed repair whose scraped text occurs exactly once; the rest are left for a person."""
    applied = []
    for g in guesses:
        if g.repaired is not None and text.count(g.scraped) == 1:
            text = text.replace(g.scraped, g.repaired)
            applied.append(g)
    return text, applied


def analyse(scraped: str, kb: KB | None = None, jurisdiction: str | None = None) -> Draft:
    """Everything the scaffold drafts from a scraped page.

    The page's chrome is dropped and the proposed repairs applied, in the way ``kb validate`` rebuilds
    ``source.txt`` (lines trimmed, blank lines dropped), so that the draft's source is what a person reviews."""
    lines = scraped.splitlines()
    chrome = chrome_guesses(lines)
    dropped = {g.line for g in chrome}
    table: dict[str, str] = {}
    for g in chrome:
        for k, v in metadata_row(g.scraped).items():
            table.setdefault(k, v)
    kept = [ln.strip() for i, ln in enumerate(lines) if i + 1 not in dropped and ln.strip()]
    title = draft_metadata(kept, table)["title"]
    damage = damage_guesses(kept, title)
    text, applied = _apply("\n".join(kept) + "\n", damage)
    first = outline(text.split("\n"), _body_start(text.split("\n"), title))
    text, numbering = _apply(text, first.repairs)
    repaired = text.split("\n")
    meta = draft_metadata(repaired, table)
    plan = outline(repaired, _body_start(repaired, meta["title"]))
    plan.problems = first.problems
    responsibilities: dict[str, DraftResponsibility] = {}
    unparsed: list[str] = []
    parameters: dict[str, list[DraftParameter]] = {}
    measures: dict[str, list[DraftMeasure]] = {}
    deadlines: dict[str, list[DraftDeadline]] = {}
    leads = first_listed_leads(text)
    for c in plan.clauses:
        r = parse_responsibility(c.text, kb, jurisdiction, leads)
        if r:
            responsibilities[c.number] = r
        elif re.search(r"(负责|牵头|配合)[)\uff09]?$", c.text.rstrip()):
            unparsed.append(c.number)
        parameters[c.number] = draft_parameters(c.text, kb)
        measures[c.number] = draft_measures(c.text, r)
        deadlines[c.number] = draft_deadlines(c.text)
    unapplied = [g for g in damage if g not in applied]
    return Draft(chrome, applied + numbering + unapplied, plan, meta, responsibilities, parameters, measures,
                 deadlines, unparsed, text)
