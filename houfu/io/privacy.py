"""Masking for lists shown to others: ID numbers and mobile numbers keep only their ends.

The 防返贫 monitoring rules have lists shown to others (公示) mask a resident ID number's birth date and
serial, and the middle of a phone number. A list view passes every identifier and name through
``mask_personal``, whichever field holds them: a registry's household id is often the householder's ID
number, and a name cell sometimes holds a phone number.
"""

from __future__ import annotations

import re

__all__ = ["mask_personal"]

#: An 18-character resident ID number (GB 11643: 17 digits and a check digit or X), or a 15-digit old one.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}|\d{5})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
#: A mainland mobile number: 11 digits starting 13-19, with an optional +86 or 86 in front.
_MOBILE = re.compile(r"(?<!\d)((?:\+?86)?1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_personal(text: object) -> str:
    """360731199001011234 -> 360731********1234 (a 15-digit one keeps the same ends);
    13812345678 -> 138****5678. Anything else is kept as it is."""
    s = "" if text is None else str(text)
    s = _ID.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), s)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), s)
