"""Names from outside (file names above all) made safe to print in a log line or a terminal.

A file name may hold a newline (which forges a second log line), a carriage return or an
escape sequence (which rewrite what a terminal shows), or a right-to-left override (which makes
`cod.exe` read as `exe.doc`). Every place that logs or prints such a name goes through
`printable`: control and invisible formatting characters become visible escapes (`\\n`,
`\\u202e`); everything else, other scripts included, is unchanged.
"""

from __future__ import annotations

import unicodedata

# Unicode categories that are never drawn: controls (Cc), format characters such as the bidi
# overrides and zero-width joiners (Cf), line and paragraph separators (Zl, Zp), unassigned and
# private-use code points (Cn, Co) and lone surrogates from undecodable bytes (Cs).
_HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cn", "Co", "Cs"}
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """`text` with every character that a log or terminal would not show as itself escaped."""
    text = str(text)
    if text.isprintable():  # the common case: nothing to do
        return text
    return "".join(_escape(character) for character in text)


def _escape(character: str) -> str:
    if character == " " or unicodedata.category(character) not in _HIDDEN:
        return character
    if character in _SHORT:
        return _SHORT[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
