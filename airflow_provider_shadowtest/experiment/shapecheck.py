"""Check a value against a service-model shape: types, required and unknown keys, lengths, patterns,
enums, ranges and list sizes. Every problem is collected, none stops the walk.

Paths are tuples of segments (member names, list indexes, :class:`MapKey`) rendered at the end by
:func:`render_path`, in the "snake" style (top-level member snake_case, as the
``build_create_request`` argument) or the "api" style (as the API request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_shadowtest.parsing import describe_value, parse_datetime

if TYPE_CHECKING:
    from airflow_provider_shadowtest.experiment.service_model import Shape

__all__ = ["MapKey", "Path", "PathStyle", "Problem", "check", "render_path", "snake_case"]

PathStyle = Literal["snake", "api"]


class MapKey(str):
    """A path segment that is a key of a map (rendered ``['key']``)."""

    __slots__ = ()


Path = tuple["str | int", ...]
Problem = tuple[Path, str]

#: Lower bounds the model leaves implicit (a negative sampling percentage is meaningless).
IMPLICIT_MIN: Mapping[str, int] = {"Percentage": 0}

_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(api_name: str) -> str:
    """``ShadowModeConfig`` -> ``shadow_mode_config``."""
    return _CAMEL.sub("_", api_name).lower()


def render_path(path: Path, style: PathStyle) -> str:
    """Render ``("ModelVariants", 1, "VariantName")`` as ``model_variants[1].VariantName``."""
    out = ""
    for i, seg in enumerate(path):
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif isinstance(seg, MapKey):
            out += f"[{str(seg)!r}]"
        elif i == 0:
            out = snake_case(seg) if style == "snake" else seg
        else:
            out += f".{seg}"
    return out or "request"


def _utf16_length(value: str) -> int:
    # The service is Java: a length counts UTF-16 code units, so an emoji counts 2.
    # A lone surrogate (JSON allows "\ud800") is one code unit too; "surrogatepass" counts it instead of raising.
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def check(value: Any, shape: Shape, path: Path, problems: list[Problem]) -> None:
    """Append to ``problems`` every way ``value`` breaks ``shape``."""
    kind = shape.type
    if kind == "structure":
        _check_structure(value, shape, path, problems)
    elif kind == "list":
        _check_list(value, shape, path, problems)
    elif kind == "map":
        _check_map(value, shape, path, problems)
    elif kind == "string":
        _check_string(value, shape, path, problems)
    elif kind in ("integer", "long"):
        _check_integer(value, shape, path, problems)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append((path, f"expected a number, got {describe_value(value)}"))
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append((path, f"expected true or false, got {describe_value(value)}"))
    elif kind == "timestamp":
        try:
            parse_datetime(value, epoch_seconds=True)
        except ValueError as exc:
            problems.append((path, str(exc)))


def _check_structure(value: Any, shape: Shape, path: Path, problems: list[Problem]) -> None:
    members = shape.members
    if not isinstance(value, Mapping):
        problems.append((path, f"expected an object with keys {', '.join(members)}, got {describe_value(value)}"))
        return
    for key in shape.required:
        if value.get(key) is None:
            problems.append(((*path, key), "required" if key not in value else "required, got None"))
    folded = {k.replace("_", "").lower(): k for k in members}
    for key, item in value.items():
        if key in members:
            if item is not None or key not in shape.required:
                check(item, members[key], (*path, key), problems)
            continue
        guess = folded.get(str(key).replace("_", "").lower())
        hint = f"; did you mean {guess!r}?" if guess else f"; expected one of: {', '.join(members)}"
        problems.append(((*path, str(key)), f"unknown key{hint}"))


def _check_list(value: Any, shape: Shape, path: Path, problems: list[Problem]) -> None:
    if not isinstance(value, (list, tuple)):
        hint = " (wrap it in a list)" if isinstance(value, Mapping) else ""
        problems.append((path, f"expected a list, got {describe_value(value)}{hint}"))
        return
    _check_size(len(value), shape, path, problems)
    for i, item in enumerate(value):
        check(item, shape.member, (*path, i), problems)


def _check_map(value: Any, shape: Shape, path: Path, problems: list[Problem]) -> None:
    if not isinstance(value, Mapping):
        problems.append((path, f"expected an object mapping names to values, got {describe_value(value)}"))
        return
    _check_size(len(value), shape, path, problems)
    for key, item in value.items():
        key_problems: list[Problem] = []
        check(key, shape.key, (*path, MapKey(key)), key_problems)
        problems.extend((p, f"key: {m}") for p, m in key_problems)
        check(item, shape.value, (*path, MapKey(key)), problems)


def _entries(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def _check_size(size: int, shape: Shape, path: Path, problems: list[Problem]) -> None:
    low, high = shape.min, shape.max
    if low is not None and low == high and size != low:
        problems.append((path, f"must have exactly {_entries(low)}, got {size}"))
    elif low is not None and size < low:
        problems.append((path, "must not be empty" if low == 1 else f"must have at least {_entries(low)}, got {size}"))
    elif high is not None and size > high:
        problems.append((path, f"must have at most {_entries(high)}, got {size}"))


def _check_string(value: Any, shape: Shape, path: Path, problems: list[Problem]) -> None:
    if not isinstance(value, str):
        problems.append((path, f"expected a string, got {describe_value(value)}"))
        return
    enum = shape.enum
    if enum:
        if value not in enum:
            problems.append((path, _enum_message(value, enum)))
        return
    length = _utf16_length(value)
    pattern = shape.pattern
    if not value and ((shape.min or 0) > 0 or (pattern is not None and not pattern.fullmatch(""))):
        problems.append((path, "must not be empty"))
        return
    if shape.min is not None and length < shape.min:
        problems.append((path, f"must be at least {_plural(shape.min, 'character')}, got {length}"))
    if shape.max is not None and length > shape.max:
        problems.append((path, f"must be at most {_plural(shape.max, 'character')}, got {length}"))
    if pattern is not None and not pattern.fullmatch(value):
        if _LINE_BREAKS.search(value) and pattern.fullmatch(_LINE_BREAKS.sub("", value)):
            problems.append((path, "must not contain line breaks"))
        else:
            problems.append((path, f"must match the pattern {pattern.source}, got {describe_value(value)}"))


def _enum_message(value: str, enum: tuple[str, ...]) -> str:
    if len(enum) <= 5:
        return f"must be {' or '.join(repr(e) for e in enum)}, got {value!r}"
    import difflib

    close = difflib.get_close_matches(value, enum, n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{value!r} is not one of the {len(enum)} values the service model allows{hint}"


def _check_integer(value: Any, shape: Shape, path: Path, problems: list[Problem]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((path, f"expected an integer, got {describe_value(value)}"))
        return
    low = shape.min if shape.min is not None else IMPLICIT_MIN.get(shape.name)
    high = shape.max
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            problems.append((path, f"must be between {low} and {high}, got {value}"))
        elif low is not None:
            problems.append((path, f"must be at least {low}, got {value}"))
        else:
            problems.append((path, f"must be at most {high}, got {value}"))
