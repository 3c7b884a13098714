"""moto's parsed request parameters as plain dicts and lists (one helper for every emulator module)."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """Return ``value`` (possibly moto's XFormedDict) with every mapping a dict and every sequence a list."""
    if hasattr(value, "original_dict"):
        value = value.original_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
