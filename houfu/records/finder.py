"""Finding a household or a record again: the search keys kept beside each decision record, and short record ids.

Each record is kept with its search keys (table ``record_keys``, migration 0007): the household's (or site's) id
and name and each member's name, folded so that case, spaces anywhere and full-width characters do not matter
(``fold``: NFKC, case-folded, every space removed); each member's resident ID number only as a keyed hash
(``id_number_key``: HMAC-SHA256 under a key made once and kept in the store, table ``store_keys``), never in the
clear; and the clauses whose measures applied (or were violated, met or not yet due), for a clause's page.

A record id may be given by any unique prefix of ``MIN_PREFIX`` characters or more (the pages show 12).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

__all__ = ["KEY_KINDS", "MIN_PREFIX", "TOUCHED", "fold", "id_number", "id_number_key", "keys_of_row", "record_keys",
           "record_prefix"]

#: The shortest prefix of a record id that is looked up (the pages show 12 characters, the CLI's search too).
MIN_PREFIX = 8

#: What a search key is of: the subject's id, its name, a member's name, a member's ID number (hashed), and a
#: clause a measure of which applied to the subject (or was violated, met or not yet due, for a site).
KEY_KINDS = ("id", "name", "member", "idno", "clause")

#: The statuses that mean a measure touched the household or site (the clause page lists them).
TOUCHED = ("applies", "violated", "met", "not_due")

#: Longest key kept (the column is 200 characters).
_KEY_LEN = 200

#: An 18-character resident ID number (17 digits and a check digit or X), or an old 15-digit one, once folded.
_ID_NUMBER = re.compile(r"\d{17}[\dx]|\d{15}")
_HEX = re.compile(r"[0-9a-f]+")


def fold(text: object) -> str:
    """A text as a search key: NFKC (full-width letters, digits and spaces become ordinary ones), case-folded,
    and with every space (and control character) removed, leading, trailing or inside: ``" ＤＮ－2023 0417 "`` -> ``"dn-20230417"``."""
    folded = "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())
    return "".join(ch for ch in folded if ch.isprintable())[:_KEY_LEN]  # no NUL or control character


def id_number(text: object) -> str | None:
    """A resident ID number folded (``x`` for the check digit X), or None if the text is not one in form."""
    folded = fold(text)
    return folded if _ID_NUMBER.fullmatch(folded) else None


def id_number_key(secret: bytes, number: str) -> str:
    """The keyed hash an ID number is kept and looked up by (HMAC-SHA256, hex); ``number`` folded first."""
    return hmac.new(secret, b"houfu-id-number:" + fold(number).encode(), hashlib.sha256).hexdigest()


def record_prefix(text: str) -> str | None:
    """A record id or the start of one (hex, ``MIN_PREFIX`` to 32 characters), folded; else None."""
    folded = fold(text)
    return folded if MIN_PREFIX <= len(folded) <= 32 and _HEX.fullmatch(folded) else None


def record_keys(entity: str, given: dict[str, Any], report: dict[str, Any],
                id_numbers: list[str], secret: bytes) -> Iterator[tuple[str, str]]:
    """(kind, key) for one record: from its input as kept (``given``), its report (as JSON data) and the members'
    ID numbers as given (hashed here; they are not in the kept input)."""
    seen: set[tuple[str, str]] = set()

    def once(kind: str, value: object) -> Iterator[tuple[str, str]]:
        key = fold(value) if kind in ("id", "name", "member") else str(value)[:_KEY_LEN]
        if key and (kind, key) not in seen:
            seen.add((kind, key))
            yield kind, key

    yield from once("id", given.get("id", ""))
    if given.get("name"):
        yield from once("name", given["name"])
    if entity == "household":
        for member in given.get("members") or []:
            if isinstance(member, dict) and member.get("name"):
                yield from once("member", member["name"])
        for number in id_numbers:
            yield from once("idno", id_number_key(secret, number))
    for d in report.get("determinations", []):
        if d.get("status") in TOUCHED and d.get("clause_id"):
            yield from once("clause", d["clause_id"])


def keys_of_row(row: Any, secret: bytes) -> list[tuple[str, str]]:
    """The search keys of a record as stored (for the migration that indexes the records kept before it)."""
    return list(record_keys(row["entity"], json.loads(row["input"]), json.loads(row["report"]), [], secret))
