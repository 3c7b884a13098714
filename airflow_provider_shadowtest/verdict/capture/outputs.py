"""Pure: read the value to compare (a label or a score) out of a captured response body."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_shadowtest.verdict.capture.records import decode_json

if TYPE_CHECKING:
    from collections.abc import Mapping

LABEL: Final = "label"
SCORE: Final = "score"
KINDS: Final = (LABEL, SCORE)

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")


class InvalidCaptureSettings(ValueError):
    """Capture comparison settings that cannot work; ``errors`` lists ``(field, message)``."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


def compile_json_path(path: str) -> tuple[str | int, ...]:
    """Split ``$.predictions[0].score`` (or ``predictions[0].score``) into keys and indexes.

    :raises ValueError: when the path has a part that is neither a key nor ``[n]``.
    """
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(
                f"cannot read {path!r} at position {position}: use keys and [n], e.g. $.predictions[0].score"
            )
        key, index = match.groups()
        steps.append(int(index) if index is not None else key)
        position = match.end()
    return tuple(steps)


@dataclass(frozen=True)
class OutputField:
    """Where the compared value sits in a response body, and whether it is a label or a score.

    :param kind: ``"label"`` (compared for equality; agreement and confusion) or ``"score"``
        (a number; differences and distribution shift).
    :param json_path: for JSON responses: ``$.predictions[0].score``; ``$`` for a bare value.
    :param csv_column: for CSV responses: the 0-based column of the first row.
    """

    kind: str
    json_path: str | None = None
    csv_column: int | None = None
    _steps: tuple[str | int, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if self.kind not in KINDS:
            errors.append(("kind", f"must be one of {list(KINDS)}, got {self.kind!r}"))
        if (self.json_path is None) == (self.csv_column is None):
            errors.append(("json_path", "set exactly one of json_path and csv_column"))
        if self.json_path is not None:
            try:
                object.__setattr__(self, "_steps", compile_json_path(self.json_path))
            except ValueError as error:
                errors.append(("json_path", str(error)))
        if self.csv_column is not None and (
            isinstance(self.csv_column, bool) or not isinstance(self.csv_column, int) or self.csv_column < 0
        ):
            errors.append(("csv_column", f"must be a column index >= 0, got {self.csv_column!r}"))
        if errors:
            raise InvalidCaptureSettings([(f"output.{path}", message) for path, message in errors])

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> OutputField:
        """Build from ``{"kind": "label", "json_path": "$.label"}`` (templated operator arguments)."""
        unknown = sorted(set(values) - {"kind", "json_path", "csv_column"})
        if unknown:
            raise InvalidCaptureSettings([(f"output.{name}", "unknown setting") for name in unknown])
        column = values.get("csv_column")
        if isinstance(column, str) and column.strip().isdigit():
            column = int(column)
        return cls(kind=str(values.get("kind", "")), json_path=values.get("json_path"), csv_column=column)

    def read(self, body: str) -> str | float:
        """Return the label (text) or score (finite float) in ``body``.

        :raises ValueError: when the body does not hold a readable value there.
        """
        value = self._read_json(body) if self.json_path is not None else self._read_csv(body)
        if self.kind == LABEL:
            if isinstance(value, (dict, list)) or value is None:
                raise ValueError(f"no label at {self._where()}: found {type(value).__name__}")
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return str(value).strip()
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            raise ValueError(f"no score at {self._where()}: found {type(value).__name__}")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"score at {self._where()} is not finite: {value!r}")
        return number

    def _where(self) -> str:
        return f"json_path {self.json_path}" if self.json_path is not None else f"csv_column {self.csv_column}"

    def _read_json(self, body: str) -> Any:
        value: Any = decode_json(body)
        for step in self._steps:
            if isinstance(step, int):
                if not isinstance(value, list) or not -len(value) <= step < len(value):
                    raise ValueError(f"{self.json_path}: no item [{step}]")
                value = value[step]
            else:
                if not isinstance(value, dict) or step not in value:
                    raise ValueError(f"{self.json_path}: no key {step!r}")
                value = value[step]
        return value

    def _read_csv(self, body: str) -> str:
        line = body.lstrip().split("\n", 1)[0].rstrip("\r")
        cells = next(csv.reader([line])) if '"' in line else line.split(",")
        column = self.csv_column if self.csv_column is not None else 0
        if column >= len(cells):
            raise ValueError(f"csv_column {column}: the row has {len(cells)} columns")
        return cells[column].strip()
