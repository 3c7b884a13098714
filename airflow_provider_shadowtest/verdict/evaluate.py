"""Pure: compare the shadow variant's metrics with production's and decide PROMOTE, REJECT or INCONCLUSIVE."""

from __future__ import annotations

import dataclasses
import enum
import math
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_shadowtest.jsonsafe import to_utc_iso
from airflow_provider_shadowtest.verdict.report import render_markdown
from airflow_provider_shadowtest.verdict.thresholds import ERROR_METRICS, VerdictThresholds

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

#: Slack on comparisons so that a change exactly at the threshold passes despite float rounding.
_TOLERANCE: Final = 1e-9
_LATENCY_METRIC: Final = "ModelLatency"
_ERROR_LABELS: Final = MappingProxyType({"4xx": "4XX error rate", "5xx": "5XX error rate", "model": "Model error rate"})


class Decision(str, enum.Enum):
    """What to do with the shadow variant."""

    PROMOTE = "PROMOTE"
    REJECT = "REJECT"
    INCONCLUSIVE = "INCONCLUSIVE"

    def __str__(self) -> str:
        return self.value


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclasses.dataclass(frozen=True)
class VariantMetrics:
    """One variant's CloudWatch metrics summed (counts) or summarized (latency) over the window.

    :param variant_name: the endpoint variant, production or shadow.
    :param invocations: requests the variant served.
    :param errors: error counts per kind: ``4xx``, ``5xx``, ``model``.
    :param latency_us: ``ModelLatency`` in microseconds per statistic (``average``, ``p50``, ...);
        None where CloudWatch returned no datapoint.
    """

    variant_name: str
    invocations: float = 0.0
    errors: Mapping[str, float] = dataclasses.field(default_factory=dict)
    latency_us: Mapping[str, float | None] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_summary(cls, variant_name: str, summary: Mapping[str, float | None]) -> VariantMetrics:
        """Build from one variant of ``InferenceExperimentHook.get_variant_metrics``'s answer."""
        errors = {kind: _clean(summary.get(metric)) or 0.0 for kind, metric in ERROR_METRICS.items()}
        prefix = f"{_LATENCY_METRIC}."
        latency = {
            key[len(prefix) :].lower(): _clean(value) for key, value in summary.items() if key.startswith(prefix)
        }
        return cls(
            variant_name=variant_name,
            invocations=_clean(summary.get("Invocations")) or 0.0,
            errors=errors,
            latency_us=latency,
        )

    def error_rate_percent(self, kind: str) -> float | None:
        """Errors of ``kind`` per invocation, in percent; None without invocations."""
        if self.invocations <= 0:
            return None
        return 100.0 * float(self.errors.get(kind, 0.0)) / self.invocations

    def to_json(self) -> dict[str, Any]:
        """Return the metrics as plain JSON values (latency in microseconds)."""
        return {
            "variant_name": self.variant_name,
            "invocations": self.invocations,
            "errors": dict(self.errors),
            "model_latency_us": dict(self.latency_us),
        }


@dataclasses.dataclass(frozen=True)
class Check:
    """One comparison of shadow with production, with everything needed to explain it.

    ``production`` and ``shadow`` are in ``unit``; ``change`` and ``threshold`` in
    ``threshold_unit``. ``passed`` is None when the check could not be computed (no data).
    """

    name: str
    label: str
    unit: str
    production: float | None
    shadow: float | None
    change: float | None
    threshold: float
    threshold_unit: str
    passed: bool | None
    note: str = ""

    @property
    def is_data_check(self) -> bool:
        """True for the data-volume check, which can make a verdict inconclusive but never reject."""
        return self.name == "invocations"

    def to_json(self) -> dict[str, Any]:
        """Return the check as plain JSON values."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The decision, why it was taken, and every check behind it."""

    decision: Decision
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    production: VariantMetrics
    shadow: VariantMetrics
    thresholds: VerdictThresholds
    experiment_name: str | None = None
    endpoint_name: str | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        """The checks that did not pass (the data-volume check included)."""
        return tuple(c for c in self.checks if c.passed is False)

    def to_json(self) -> dict[str, Any]:
        """Return the verdict as a plain JSON document, the Markdown report included."""
        return {
            "decision": self.decision.value,
            "reasons": list(self.reasons),
            "checks": [c.to_json() for c in self.checks],
            "experiment_name": self.experiment_name,
            "endpoint_name": self.endpoint_name,
            "variants": {"production": self.production.variant_name, "shadow": self.shadow.variant_name},
            "window": {
                "start": to_utc_iso(self.window_start) if self.window_start else None,
                "end": to_utc_iso(self.window_end) if self.window_end else None,
            },
            "metrics": {"production": self.production.to_json(), "shadow": self.shadow.to_json()},
            "thresholds": self.thresholds.to_json(),
            "report_markdown": render_markdown(self),
        }


def _latency_check(statistic: str, limit: float, production: VariantMetrics, shadow: VariantMetrics) -> Check:
    prod_us, shadow_us = production.latency_us.get(statistic), shadow.latency_us.get(statistic)
    label = f"Model latency {'mean' if statistic == 'average' else statistic}"
    prod_ms = None if prod_us is None else prod_us / 1000.0
    shadow_ms = None if shadow_us is None else shadow_us / 1000.0
    change: float | None = None
    note = ""
    if prod_us is None or shadow_us is None:
        missing = " and ".join(n for n, v in (("production", prod_us), ("shadow", shadow_us)) if v is None)
        passed: bool | None = None
        note = f"no {statistic} datapoint for {missing}"
    elif prod_us <= 0:
        # No relative change from a zero baseline: only "not slower than zero" passes.
        passed = shadow_us <= 0
        change = 0.0 if passed else None
        note = "" if passed else "production latency is 0; any shadow latency is an unbounded increase"
    else:
        change = 100.0 * (shadow_us - prod_us) / prod_us
        passed = change <= limit + _TOLERANCE
    return Check(
        name=f"latency_{statistic}",
        label=label,
        unit="ms",
        production=prod_ms,
        shadow=shadow_ms,
        change=change,
        threshold=limit,
        threshold_unit="percent",
        passed=passed,
        note=note,
    )


def _error_check(kind: str, limit: float, production: VariantMetrics, shadow: VariantMetrics) -> Check:
    prod_rate, shadow_rate = production.error_rate_percent(kind), shadow.error_rate_percent(kind)
    change: float | None = None
    note = ""
    if prod_rate is None or shadow_rate is None:
        missing = " and ".join(n for n, v in (("production", prod_rate), ("shadow", shadow_rate)) if v is None)
        passed: bool | None = None
        note = f"no invocations for {missing}"
    else:
        change = shadow_rate - prod_rate
        passed = change <= limit + _TOLERANCE
    return Check(
        name=f"error_rate_{kind}",
        label=_ERROR_LABELS[kind],
        unit="percent",
        production=prod_rate,
        shadow=shadow_rate,
        change=change,
        threshold=limit,
        threshold_unit="percentage_points",
        passed=passed,
        note=note,
    )


def describe_check(check: Check) -> str:
    """One sentence saying what a check found, for reasons and failure messages."""
    if check.is_data_check:
        return (
            f"{check.label}: {check.shadow:,.0f} shadow invocations, "
            f"at least {check.threshold:,.0f} needed for a decision"
        )
    if check.passed is None:
        return f"{check.label}: cannot be compared ({check.note})"
    if check.threshold_unit == "percent":
        values = f"shadow {check.shadow:.3f} ms vs production {check.production:.3f} ms"
        if check.change is None:
            return f"{check.label}: {values}; {check.note}"
        verb = "more than" if not check.passed else "within"
        return f"{check.label}: {values} ({check.change:+.1f} %), {verb} the allowed {check.threshold:+g} %"
    values = f"shadow {check.shadow:.2f} % vs production {check.production:.2f} %"
    verb = "more than" if not check.passed else "within"
    return f"{check.label}: {values} ({check.change:+.2f} pp), {verb} the allowed {check.threshold:+g} pp"


def evaluate(
    production: VariantMetrics,
    shadow: VariantMetrics,
    thresholds: VerdictThresholds | None = None,
    *,
    experiment_name: str | None = None,
    endpoint_name: str | None = None,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
) -> Verdict:
    """Judge ``shadow`` against ``production``.

    Rules, in order:

    1. fewer shadow invocations than ``min_shadow_invocations``: INCONCLUSIVE;
    2. any latency or error-rate check failed: REJECT;
    3. any check could not be computed (no datapoint): INCONCLUSIVE;
    4. otherwise PROMOTE.

    With ``promote_on_insufficient_data`` rules 1 and 3 are skipped.
    """
    limits = thresholds or VerdictThresholds()
    enough = shadow.invocations >= limits.min_shadow_invocations
    volume = Check(
        name="invocations",
        label="Invocations",
        unit="invocations",
        production=production.invocations,
        shadow=shadow.invocations,
        change=None,
        threshold=float(limits.min_shadow_invocations),
        threshold_unit="minimum shadow invocations",
        passed=enough,
    )
    comparisons = [
        _latency_check(stat, limit, production, shadow) for stat, limit in limits.max_latency_increase_percent.items()
    ] + [
        _error_check(kind, limit, production, shadow)
        for kind, limit in limits.max_error_rate_increase_percentage_points.items()
    ]
    failed = [c for c in comparisons if c.passed is False]
    unknown = [c for c in comparisons if c.passed is None]
    lenient = limits.promote_on_insufficient_data

    reasons: list[str]
    if not enough and not lenient:
        decision = Decision.INCONCLUSIVE
        reasons = [describe_check(volume)]
        if failed:
            reasons.append(
                "not decisive on so little data, but these would fail: " + ", ".join(c.label for c in failed)
            )
    elif failed:
        decision = Decision.REJECT
        reasons = [describe_check(c) for c in failed]
    elif unknown and not lenient:
        decision = Decision.INCONCLUSIVE
        reasons = [describe_check(c) for c in unknown]
    else:
        decision = Decision.PROMOTE
        computed = len(comparisons) - len(unknown)
        reasons = [
            f"all {computed} checks passed on {shadow.invocations:,.0f} shadow and "
            f"{production.invocations:,.0f} production invocations"
        ]
        skipped = ([describe_check(volume)] if not enough else []) + [describe_check(c) for c in unknown]
        reasons += [f"ignored (promote_on_insufficient_data): {text}" for text in skipped]

    return Verdict(
        decision=decision,
        reasons=tuple(reasons),
        checks=(volume, *comparisons),
        production=production,
        shadow=shadow,
        thresholds=limits,
        experiment_name=experiment_name,
        endpoint_name=endpoint_name,
        window_start=window_start,
        window_end=window_end,
    )
