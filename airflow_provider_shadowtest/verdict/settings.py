"""Pure: what the statistical judge checks, how strictly, and at what confidence.

The operator-facing thresholds (:class:`~airflow_provider_shadowtest.verdict.VerdictThresholds`)
map onto checks one to one: ``max_latency_increase_percent[stat]`` becomes check
``latency_<stat>`` with that allowed increase, ``max_error_rate_increase_percentage_points[kind]``
becomes ``error_rate_<kind>``; ``min_shadow_invocations`` and ``promote_on_insufficient_data``
keep their meaning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, Literal

from airflow_provider_shadowtest.parsing import parse_bool
from airflow_provider_shadowtest.verdict.evidence import ERROR_COUNT_METRICS
from airflow_provider_shadowtest.verdict.thresholds import VerdictThresholds

#: Default confidence of every interval, in percent.
DEFAULT_CONFIDENCE_PERCENT: Final = 95.0
#: Default allowed increase of the (non-critical) OverheadLatency check, in percent.
DEFAULT_MAX_OVERHEAD_INCREASE_PERCENT: Final = 10.0

CheckKind = Literal["ratio", "rate"]


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """One comparison of shadow with production.

    :param name: ``latency_p99``, ``error_rate_5xx``, ``overhead_latency_average``, ...
    :param metric: the evidence key compared: ``"ModelLatency.p99"`` (kind ``ratio``) or an error
        count such as ``"Invocation5XXErrors"`` (kind ``rate``, per invocation).
    :param kind: ``ratio``: relative change of shadow over production in percent, paired by
        minute; ``rate``: difference of error rates in percentage points.
    :param allowed_increase: the largest acceptable change (percent or percentage points).
    :param critical: a critical check's regression rejects, and PROMOTE needs every critical
        check shown within its allowance; a non-critical one is reported only.
    :param must_have_data: without data this check makes the verdict INCONCLUSIVE; otherwise it
        is skipped, and the report says so.
    """

    name: str
    metric: str
    kind: CheckKind
    allowed_increase: float
    critical: bool = True
    must_have_data: bool = True

    @property
    def unit(self) -> str:
        """Unit of the change and the allowance."""
        return "percent" if self.kind == "ratio" else "percentage_points"

    def to_json(self) -> dict[str, Any]:
        """Return the settings as plain JSON."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class JudgeSettings:
    """Every check and the confidence they are judged at.

    :param checks: the checks, in report order.
    :param confidence_percent: confidence of each interval (two-sided), e.g. 95.
    :param min_shadow_invocations: fewer shadow invocations than this give INCONCLUSIVE.
    """

    checks: tuple[CheckSpec, ...]
    confidence_percent: float = DEFAULT_CONFIDENCE_PERCENT
    min_shadow_invocations: int = 100

    def __post_init__(self) -> None:
        if not 50.0 <= float(self.confidence_percent) < 100.0:
            raise ValueError(f"confidence_percent: expected a number in [50, 100), got {self.confidence_percent!r}")
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError(f"checks: duplicate check names in {names}")

    @property
    def percentiles(self) -> tuple[str, ...]:
        """CloudWatch percentile statistics the checks need, e.g. ``("p50", "p99")``."""
        stats = {c.metric.split(".", 1)[1] for c in self.checks if "." in c.metric}
        return tuple(sorted((s for s in stats if s.startswith("p")), key=lambda s: float(s[1:])))

    def to_json(self) -> dict[str, Any]:
        """Return the settings as plain JSON."""
        return {
            "confidence_percent": self.confidence_percent,
            "min_shadow_invocations": self.min_shadow_invocations,
            "checks": [c.to_json() for c in self.checks],
        }


_OVERRIDABLE: Final = ("critical", "must_have_data", "allowed_increase")


def _override(spec: CheckSpec, changes: Any) -> CheckSpec:
    if not isinstance(changes, Mapping):
        raise ValueError(f"check_settings[{spec.name!r}]: expected a mapping, got {changes!r}")
    unknown = sorted(set(changes) - set(_OVERRIDABLE))
    if unknown:
        raise ValueError(f"check_settings[{spec.name!r}]: unknown keys {unknown}; known: {list(_OVERRIDABLE)}")
    values: dict[str, Any] = {}
    for key in ("critical", "must_have_data"):
        if key in changes:
            values[key] = parse_bool(f"check_settings[{spec.name!r}][{key!r}]", changes[key])
    if "allowed_increase" in changes:
        try:
            values["allowed_increase"] = float(changes["allowed_increase"])
        except (TypeError, ValueError):
            field = f"check_settings[{spec.name!r}]['allowed_increase']"
            raise ValueError(f"{field}: expected a number, got {changes['allowed_increase']!r}") from None
    return dataclasses.replace(spec, **values)


def settings_from_thresholds(
    thresholds: VerdictThresholds | None = None,
    *,
    confidence_percent: float = DEFAULT_CONFIDENCE_PERCENT,
    check_settings: Mapping[str, Mapping[str, Any]] | None = None,
    overhead_latency_increase_percent: float | None = DEFAULT_MAX_OVERHEAD_INCREASE_PERCENT,
) -> JudgeSettings:
    """Map the operator's thresholds onto checks.

    Defaults: every latency and error check is critical; the mean latency and the error rates
    must have data, percentiles need not (CloudWatch may have none: the verdict then rests on
    the mean and says so); ``OverheadLatency`` is reported, not critical. With
    ``promote_on_insufficient_data`` no check must have data.

    :param check_settings: per-check changes by check name, e.g.
        ``{"latency_p99": {"critical": False}, "error_rate_4xx": {"allowed_increase": 1.0}}``.
    :raises ValueError: naming the field for unknown checks or keys and bad values.
    """
    limits = thresholds or VerdictThresholds()
    lenient = limits.promote_on_insufficient_data
    specs: list[CheckSpec] = []
    for stat, allowed in limits.max_latency_increase_percent.items():
        cw_stat = "Average" if stat == "average" else stat
        must = stat == "average" and not lenient
        specs.append(CheckSpec(f"latency_{stat}", f"ModelLatency.{cw_stat}", "ratio", allowed, True, must))
    for kind, allowed in limits.max_error_rate_increase_percentage_points.items():
        specs.append(CheckSpec(f"error_rate_{kind}", ERROR_COUNT_METRICS[kind], "rate", allowed, True, not lenient))
    if overhead_latency_increase_percent is not None:
        allowed = float(overhead_latency_increase_percent)
        specs.append(CheckSpec("overhead_latency_average", "OverheadLatency.Average", "ratio", allowed, False, False))
    by_name = {s.name: s for s in specs}
    for name, changes in (check_settings or {}).items():
        if name not in by_name:
            raise ValueError(f"check_settings: unknown check {name!r}; checks: {sorted(by_name)}")
        by_name[name] = _override(by_name[name], changes)
    minimum = 0 if lenient else limits.min_shadow_invocations
    return JudgeSettings(tuple(by_name.values()), float(confidence_percent), minimum)
