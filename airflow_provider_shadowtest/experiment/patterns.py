"""Java regular expressions of the service model, matched with Python's ``re``.

botocore's service models carry the patterns the (Java) service enforces, with Java semantics:
the whole value must match, ``\\p{L}``-style Unicode property classes, ``.`` that stops at
every line terminator (not only ``\\n``), and ASCII-only ``\\d``, ``\\w``, ``\\s``. This module
translates them into equivalent Python patterns:

- property classes (``\\p{L}``, ``\\p{Lu}``, ``\\P{N}``, POSIX ``\\p{Alnum}``...) become explicit
  code-point ranges built from :mod:`unicodedata`. Building the full ranges costs about a quarter
  of a second, so ASCII-only values use ranges restricted to ASCII, which give the same result
  for them; the full ranges are built on the first non-ASCII value and cached;
- ``.`` outside a class becomes "anything but a Java line terminator";
- a quantified ``$`` (``$ {1,256}``, which Java accepts) becomes ``(?:$)``;
- ``re.ASCII`` gives ``\\d``, ``\\w``, ``\\s`` and ``\\b`` their Java (ASCII) meaning.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

__all__ = ["JavaPattern", "compile_java_pattern"]

#: Java's ``.`` excludes every line terminator, Python's only ``\n``.
_JAVA_DOT = "[^\\n\\r\\x85\\u2028\\u2029]"

#: POSIX classes: ASCII-only in Java unless UNICODE_CHARACTER_CLASS is set (it never is here).
_POSIX = {
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}

#: Java writes a supplementary code point as a UTF-16 pair of escapes; Python needs one \\U escape.
_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)

#: A general category: one letter (``L``) or two (``Lu``).
_GENERAL_CATEGORY = re.compile(r"[LMNPSZC][a-z]?")


def _ranges(points: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for p in points:
        if out and out[-1][1] == p - 1:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return out


@functools.lru_cache(maxsize=4)
def _categories(limit: int) -> dict[str, list[int]]:
    """Code points below ``limit`` by two-letter general category, in one pass."""
    table: dict[str, list[int]] = {}
    for cp in range(limit):
        table.setdefault(unicodedata.category(chr(cp)), []).append(cp)
    return table


@functools.lru_cache(maxsize=128)
def _category_ranges(category: str, limit: int) -> tuple[tuple[int, int], ...]:
    """Code-point ranges of a general category (one or two letters) below ``limit``."""
    points = sorted(cp for cat, cps in _categories(limit).items() if cat.startswith(category) for cp in cps)
    return tuple(_ranges(points))


def _complement(ranges: tuple[tuple[int, int], ...], limit: int) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt < limit:
        out.append((nxt, limit - 1))
    return tuple(out)


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    def esc(cp: int) -> str:
        return f"\\U{cp:08x}"

    return "".join(esc(lo) if lo == hi else f"{esc(lo)}-{esc(hi)}" for lo, hi in ranges)


def _property_body(name: str, negate: bool, limit: int) -> str:
    """The inside of a character class equivalent to Java's ``\\p{name}`` (or ``\\P{name}``)."""
    name = name.removeprefix("Is").removeprefix("general_category=").removeprefix("gc=")
    if name in _POSIX:
        if not negate:
            return _POSIX[name]
        points = [cp for cp in range(128) if re.fullmatch(f"[{_POSIX[name]}]", chr(cp))]
        return _class_body(_complement(tuple(_ranges(points)), limit))
    if not _GENERAL_CATEGORY.fullmatch(name):
        raise ValueError(f"unsupported Java property class \\p{{{name}}}")
    ranges = _category_ranges(name, limit)
    return _class_body(_complement(ranges, limit) if negate else ranges)


def _translate(source: str, limit: int) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            if nxt in "pP":
                if source.startswith("{", i + 2):
                    end = source.index("}", i + 3)
                    name, i = source[i + 3 : end], end + 1
                else:
                    name, i = source[i + 2], i + 3
                body = _property_body(name, nxt == "P", limit)
                out.append(body if in_class else f"[{body}]")
                continue
            pair = _SURROGATE_PAIR.match(source, i)
            if pair:
                high, low = int(pair.group(1), 16), int(pair.group(2), 16)
                out.append(f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}")
                i = pair.end()
                continue
            if nxt in "QEGZz":
                raise ValueError(f"unsupported Java escape \\{nxt} in pattern {source!r}")
            out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[":
                raise ValueError(f"nested Java character classes are not supported: {source!r}")
            if ch == "]" and not (out and out[-1] in ("[", "[^")):
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            if source.startswith("^", i + 1):
                out.append("[^")
                i += 2
                continue
            out.append("[")
        elif ch == ".":
            out.append(_JAVA_DOT)
        elif ch == "$" and source.startswith("{", i + 1):
            out.append("(?:$)")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


class JavaPattern:
    """A service-model pattern, matched against a whole value with Java's semantics.

    :param source: the pattern as the service model states it.
    """

    __slots__ = ("_ascii", "_full", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._ascii = re.compile(_translate(source, 128), re.ASCII)
        self._full: re.Pattern[str] | None = None

    def fullmatch(self, value: str) -> bool:
        """Return whether the whole of ``value`` matches."""
        if value.isascii():
            return self._ascii.fullmatch(value) is not None
        if self._full is None:
            self._full = re.compile(_translate(self.source, sys.maxunicode + 1), re.ASCII)
        return self._full.fullmatch(value) is not None

    def __repr__(self) -> str:
        return f"JavaPattern({self.source!r})"


@functools.lru_cache(maxsize=512)
def compile_java_pattern(source: str) -> JavaPattern:
    """Return the (cached) :class:`JavaPattern` for a service-model pattern."""
    return JavaPattern(source)
