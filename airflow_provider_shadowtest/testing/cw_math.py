"""CloudWatch metric math for GetMetricData expressions (pure: no moto, no I/O).

Supported, as the CloudWatch guide "Using metric math" describes them:

- query ids (``e``, ``m1``) and numbers, ``+ - * / ^``, unary minus and parentheses; between two
  time series the operation applies at the timestamps both have, between a series and a scalar
  at every timestamp; division by zero leaves the datapoint out;
- arrays ``[a, b]`` and ``METRICS()`` / ``METRICS("text")`` (every metric query of the request,
  or those whose id or label contains the text);
- ``SUM``, ``AVG``, ``MIN``, ``MAX``: of an array, one time series of the per-timestamp
  aggregate (missing values skipped); of one time series, a scalar over all its datapoints.

Anything else raises :class:`MathError` with a message naming the expression and the problem.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r'|(?P<string>"[^"]*")|(?P<op>[-+*/^(),\[\]]))'
)


class MathError(ValueError):
    """An expression CloudWatch would refuse."""


@dataclass(frozen=True)
class Series:
    """One time series: values by timestamp, and its label."""

    label: str
    points: Mapping[datetime, float]


Value = float | Series | list[Series]
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "SUM": math.fsum,
    "AVG": lambda values: math.fsum(values) / len(values),
    "MIN": min,
    "MAX": max,
}


def evaluate(expression: str, series: Mapping[str, Series], metric_ids: Iterable[str]) -> Value:
    """Evaluate ``expression`` over the named ``series``.

    :param series: query id -> its time series (metric queries and expressions evaluated before).
    :param metric_ids: the ids of the request's metric (``MetricStat``) queries, for ``METRICS()``.
    """
    parser = _Parser(expression, series, list(metric_ids))
    return parser.parse()


def referenced_ids(expression: str) -> set[str]:
    """The query ids an expression names (lower-case first letter; functions are upper case)."""
    return {m.group("name") for m in _TOKEN.finditer(expression) if m.group("name") and m.group("name")[0].islower()}


class _Parser:
    def __init__(self, expression: str, series: Mapping[str, Series], metric_ids: list[str]) -> None:
        self.expression = expression
        self.series = series
        self.metric_ids = metric_ids
        self.tokens = self._tokenize(expression)
        self.position = 0

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        index = 0
        while index < len(text):
            match = _TOKEN.match(text, index)
            if match is None or match.end() == index:
                if text[index:].strip() == "":
                    break
                raise self.error(f"unexpected character {text[index]!r} at position {index + 1}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            index = match.end()
        return tokens

    def error(self, problem: str) -> MathError:
        return MathError(f"Error in expression {self.expression!r}: {problem}")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end of expression")
        if expected is not None and token[1] != expected:
            raise self.error(f"expected {expected!r}, found {token[1]!r}")
        self.position += 1
        return token

    def parse(self) -> Value:
        value = self.additive()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return value

    def additive(self) -> Value:
        value = self.multiplicative()
        while (token := self.peek()) is not None and token[1] in "+-" and token[0] == "op":
            self.take()
            value = self.combine(token[1], value, self.multiplicative())
        return value

    def multiplicative(self) -> Value:
        value = self.power()
        while (token := self.peek()) is not None and token[1] in "*/" and token[0] == "op":
            self.take()
            value = self.combine(token[1], value, self.power())
        return value

    def power(self) -> Value:
        value = self.unary()
        if (token := self.peek()) is not None and token[1] == "^":
            self.take()
            return self.combine("^", value, self.power())
        return value

    def unary(self) -> Value:
        token = self.peek()
        if token is not None and token[1] == "-" and token[0] == "op":
            self.take()
            return self.combine("*", -1.0, self.unary())
        if token is not None and token[1] == "+" and token[0] == "op":
            self.take()
            return self.unary()
        return self.atom()

    def atom(self) -> Value:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if text == "(":
            value = self.additive()
            self.take(")")
            return value
        if text == "[":
            return self.array()
        if kind == "name":
            if self.peek() == ("op", "("):
                return self.call(text)
            if text not in self.series:
                raise self.error(f"unknown id {text!r}")
            return self.series[text]
        raise self.error(f"unexpected {text!r}")

    def array(self) -> list[Series]:
        items: list[Series] = []
        while True:
            value = self.additive()
            items.extend(self.as_array(value))
            separator = self.take()[1]
            if separator == "]":
                return items
            if separator != ",":
                raise self.error(f"expected ',' or ']' in an array, found {separator!r}")

    def as_array(self, value: Value) -> list[Series]:
        if isinstance(value, Series):
            return [value]
        if isinstance(value, list):
            return value
        raise self.error("an array holds time series, not numbers")

    def call(self, function: str) -> Value:
        self.take("(")
        if function == "METRICS":
            text = ""
            if self.peek() is not None and self.peek()[0] == "string":  # type: ignore[index]
                text = self.take()[1].strip('"')
            self.take(")")
            return [
                self.series[i]
                for i in self.metric_ids
                if i in self.series and (text in i or text in self.series[i].label)
            ]
        aggregate = _AGGREGATES.get(function)
        if aggregate is None:
            raise self.error(
                f"unsupported function {function}; the emulator has {', '.join([*_AGGREGATES, 'METRICS'])}"
            )
        argument = self.additive()
        self.take(")")
        if isinstance(argument, list):
            stamps = sorted({t for s in argument for t in s.points})
            points = {}
            for stamp in stamps:
                values = [s.points[stamp] for s in argument if stamp in s.points]
                points[stamp] = aggregate(values)
            return Series(f"{function}", points)
        if isinstance(argument, Series):
            values = list(argument.points.values())
            return aggregate(values) if values else math.nan
        return argument

    def combine(self, op: str, left: Value, right: Value) -> Value:
        if isinstance(left, list):
            if isinstance(right, list):
                raise self.error(f"cannot combine two arrays with {op!r}")
            return [self.series_op(op, s, right) for s in left]
        if isinstance(right, list):
            return [self.series_op(op, left, s) for s in right]
        if isinstance(left, Series) or isinstance(right, Series):
            return self.series_op(op, left, right)
        result = _apply(op, left, right)
        return math.nan if result is None else result

    def series_op(self, op: str, left: float | Series, right: float | Series) -> Series:
        if isinstance(left, Series) and isinstance(right, Series):
            stamps = [t for t in left.points if t in right.points]
            pairs = ((t, _apply(op, left.points[t], right.points[t])) for t in stamps)
            label = left.label
        elif isinstance(left, Series):
            pairs = ((t, _apply(op, v, right)) for t, v in left.points.items())  # type: ignore[arg-type]
            label = left.label
        else:
            assert isinstance(right, Series)
            pairs = ((t, _apply(op, left, v)) for t, v in right.points.items())
            label = right.label
        return Series(label, {t: v for t, v in pairs if v is not None})


def _apply(op: str, left: float, right: float) -> float | None:
    try:
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        elif op == "/":
            result = left / right
        else:
            result = left**right
    except (ZeroDivisionError, OverflowError):
        return None
    if isinstance(result, complex) or not math.isfinite(result):
        return None
    return float(result)
