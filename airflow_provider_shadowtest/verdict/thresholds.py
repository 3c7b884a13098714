"""Pure: the limits a shadow variant must stay within to be promoted, with documented defaults."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from airflow_provider_shadowtest.parsing import parse_bool, parse_literal

#: Latency statistics checked by default: the mean and three percentiles of ``ModelLatency``.
DEFAULT_LATENCY_STATISTICS: Final = ("average", "p50", "p90", "p99")
#: Default maximum relative latency increase of the shadow over production, per statistic.
DEFAULT_MAX_LATENCY_INCREASE_PERCENT: Final = 10.0
#: Error kinds and the CloudWatch metric counting each.
ERROR_METRICS: Final = MappingProxyType(
    {"4xx": "Invocation4XXErrors", "5xx": "Invocation5XXErrors", "model": "InvocationModelErrors"}
)
#: Default maximum error-rate increase, in percentage points (absolute), per error kind.
DEFAULT_MAX_ERROR_RATE_INCREASE_PERCENTAGE_POINTS: Final = 0.5
#: Default minimum number of shadow invocations before the metrics decide anything.
DEFAULT_MIN_SHADOW_INVOCATIONS: Final = 100

#: A limit given as one number for every default key, or per key (None switches a check off);
#: rendered templates may give either as text.
LimitSpec = float | Mapping[str, float | None] | str

_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")
_AVERAGE_ALIASES: Final = frozenset({"average", "avg", "mean"})


def latency_statistic_key(name: str) -> str:
    """Normalize a latency statistic name: ``mean``/``Average`` -> ``average``, ``P99`` -> ``p99``.

    :raises ValueError: for anything that is neither the mean nor a CloudWatch percentile.
    """
    key = str(name).strip().lower()
    if key in _AVERAGE_ALIASES:
        return "average"
    if _PERCENTILE.match(key):
        return key
    raise ValueError(f"{name!r} is not a latency statistic: use 'average' (or 'mean') or a percentile like 'p99'")


def _error_kind_key(name: str) -> str:
    key = str(name).strip().lower()
    aliases = {"4xx": "4xx", "5xx": "5xx", "model": "model", "model_errors": "model"}
    aliases.update({metric.lower(): kind for kind, metric in ERROR_METRICS.items()})
    if key not in aliases:
        raise ValueError(f"{name!r} is not an error kind: use one of {', '.join(ERROR_METRICS)}")
    return aliases[key]


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{field}: expected a finite number, got {value!r}")
    return number


def _per_key(field: str, value: Any, default_keys: tuple[str, ...], normalize: Any) -> MappingProxyType[str, float]:
    """Accept one number for every default key, or a mapping ``{key: number or None}``."""
    if isinstance(value, str) and value.strip().startswith("{"):
        try:  # JSON, or the Python-literal text Jinja renders for a dict
            value = parse_literal(value)
        except ValueError as exc:
            raise ValueError(f"{field}: {exc}") from None
    if isinstance(value, Mapping):
        out: dict[str, float] = {}
        for raw_key, raw in value.items():
            try:
                key = normalize(raw_key)
            except ValueError as exc:
                raise ValueError(f"{field}: {exc}") from None
            if raw is not None:  # None switches that check off
                out[key] = _number(f"{field}[{raw_key!r}]", raw)
        return MappingProxyType(out)
    number = _number(field, value)
    return MappingProxyType(dict.fromkeys(default_keys, number))


@dataclasses.dataclass(frozen=True, init=False)
class VerdictThresholds:
    """What the shadow variant must achieve, compared with production, to be promoted.

    :param max_latency_increase_percent: largest allowed relative increase of the shadow's
        ``ModelLatency`` over production's, in percent, per statistic. One number applies to the
        mean and p50, p90, p99; a mapping such as ``{"p99": 20, "average": 5}`` checks exactly
        those statistics (a value of ``None`` switches one off). Default 10 % on each of
        ``average``, ``p50``, ``p90``, ``p99``. A negative value demands a faster shadow.
    :param max_error_rate_increase_percentage_points: largest allowed increase of each error rate
        (errors / invocations), absolute, in percentage points: 0.5 lets 0.1 % become 0.6 %. One
        number applies to ``4xx``, ``5xx`` and ``model`` errors; a mapping checks the kinds it
        names. Default 0.5 on each.
    :param min_shadow_invocations: fewest shadow invocations in the window for the metrics to
        decide anything; below it the verdict is ``INCONCLUSIVE``. Default 100.
    :param promote_on_insufficient_data: when True, missing data no longer blocks a decision:
        too few invocations or a statistic without datapoints is ignored, so the checks that
        could be computed decide (a failed one still rejects). Default False: too little data
        is never a pass.
    """

    max_latency_increase_percent: Mapping[str, float]
    max_error_rate_increase_percentage_points: Mapping[str, float]
    min_shadow_invocations: int
    promote_on_insufficient_data: bool

    def __init__(
        self,
        max_latency_increase_percent: LimitSpec = DEFAULT_MAX_LATENCY_INCREASE_PERCENT,
        max_error_rate_increase_percentage_points: LimitSpec = DEFAULT_MAX_ERROR_RATE_INCREASE_PERCENTAGE_POINTS,
        min_shadow_invocations: int | str = DEFAULT_MIN_SHADOW_INVOCATIONS,
        promote_on_insufficient_data: bool | str = False,
    ) -> None:
        latency = _per_key(
            "max_latency_increase_percent",
            max_latency_increase_percent,
            DEFAULT_LATENCY_STATISTICS,
            latency_statistic_key,
        )
        errors = _per_key(
            "max_error_rate_increase_percentage_points",
            max_error_rate_increase_percentage_points,
            tuple(ERROR_METRICS),
            _error_kind_key,
        )
        minimum = _number("min_shadow_invocations", min_shadow_invocations)
        if minimum < 0 or minimum != int(minimum):
            raise ValueError(f"min_shadow_invocations: expected a whole number >= 0, got {minimum!r}")
        lenient = parse_bool("promote_on_insufficient_data", promote_on_insufficient_data)
        # Frozen: the normalised values are set once, here.
        object.__setattr__(self, "max_latency_increase_percent", latency)
        object.__setattr__(self, "max_error_rate_increase_percentage_points", errors)
        object.__setattr__(self, "min_shadow_invocations", int(minimum))
        object.__setattr__(self, "promote_on_insufficient_data", lenient)

    @classmethod
    def from_values(
        cls,
        *,
        max_latency_increase_percent: Any = None,
        max_error_rate_increase_percentage_points: Any = None,
        min_shadow_invocations: Any = None,
        promote_on_insufficient_data: Any = None,
    ) -> VerdictThresholds:
        """Build from rendered template values: ``None`` keeps a default; numbers, flags and
        mappings may arrive as strings (``"10"``, ``"false"``, ``'{"p99": 20}'``)."""
        given = {
            "max_latency_increase_percent": max_latency_increase_percent,
            "max_error_rate_increase_percentage_points": max_error_rate_increase_percentage_points,
            "min_shadow_invocations": min_shadow_invocations,
            "promote_on_insufficient_data": promote_on_insufficient_data,
        }
        return cls(**{k: v for k, v in given.items() if v is not None})

    @property
    def percentiles(self) -> tuple[str, ...]:
        """The CloudWatch percentile statistics the latency checks need, e.g. ``("p50", "p99")``."""
        keys = [k for k in self.max_latency_increase_percent if k != "average"]
        return tuple(sorted(keys, key=lambda k: float(k[1:])))

    def to_json(self) -> dict[str, Any]:
        """Return the thresholds as plain JSON values."""
        return {
            "max_latency_increase_percent": dict(self.max_latency_increase_percent),
            "max_error_rate_increase_percentage_points": dict(self.max_error_rate_increase_percentage_points),
            "min_shadow_invocations": self.min_shadow_invocations,
            "promote_on_insufficient_data": self.promote_on_insufficient_data,
        }
