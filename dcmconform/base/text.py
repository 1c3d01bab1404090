"""Text that came from the target, made safe to show: the one helper every renderer uses.

Whatever the node sends (AE titles, Implementation Version Name and Class UID, Error Comments,
anything a summary or a dump quotes) is untrusted. Before it reaches a terminal, a Markdown
file or a line of an association dump, :func:`printable` replaces every character that is not
printable text by a visible escape: C0 and C1 controls (ESC, BEL, CR, backspace, NUL, ...,
so no escape or OSC sequence reaches the terminal), DEL, line and paragraph separators
(U+2028/U+2029), bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) and every
other format, unassigned or surrogate code point (whatever :meth:`str.isprintable` refuses).
A newline in target text would let it forge a line of our own (a "-> sent" event in a dump, a
heading in Markdown), so newline and tab are escaped too unless the caller keeps them.
"""

from __future__ import annotations

import sys
from typing import TextIO

ELLIPSIS = "…"


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, limit: int | None = None, keep: str = "", ascii_only: bool = False) -> str:
    """``text`` with every non-printable character shown as ``\\x1b``, ``\\u202e``, ``\\U000e0001``.

    ``keep``: characters left as they are (``"\\n"`` for a multi-line block whose lines are the
    caller's own, ``"\\t"``). ``ascii_only``: escape everything outside printable ASCII too (wire
    fields, whose exact bytes matter). ``limit``: at most this many characters of the result,
    the last one ``…`` when cut (an escape is never cut in half)."""
    out: list[str] = []
    size = 0
    for char in text:
        shown = char if char in keep or (char.isprintable() and (not ascii_only or char < "\x7f")) else _escape(char)
        if limit is not None and size + len(shown) > limit:
            while out and size + 1 > limit:
                size -= len(out.pop())
            out.append(ELLIPSIS)
            break
        out.append(shown)
        size += len(shown)
    return "".join(out)


def say(text: str, file: TextIO | None = None) -> None:
    """Print our own block of lines, with whatever it quotes from the target :func:`printable`
    (newlines kept: they are the caller's; a target field that could hold one is escaped where it
    is quoted). Flushed, so a step shows as it happens."""
    print(printable(text, keep="\n"), file=file or sys.stdout, flush=True)
