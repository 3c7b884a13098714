"""Pure: compare what the shadow answered with what production answered to the same requests.

Feed capture lines of both variants (:meth:`CaptureComparison.add_line`), hour by hour,
calling :meth:`CaptureComparison.advance` after each hour so that memory stays bounded;
:meth:`CaptureComparison.finish` returns the checks and the figures behind them.

Every check is a plain dict the verdict can include, the same shape as the metric checks::

    {"name", "metric", "estimate", "interval_low", "interval_high", "allowed_limit",
     "decision": "pass" | "fail" | "inconclusive", "reason", "critical"}

A check passes when its whole interval is on the allowed side of the limit, fails when its
whole interval is on the wrong side, and is inconclusive otherwise: a candidate is neither
rejected on noise nor promoted on thin evidence. Too few pairs make every comparison
inconclusive.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections import Counter
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_shadowtest.verdict.capture import stats
from airflow_provider_shadowtest.verdict.capture.outputs import LABEL
from airflow_provider_shadowtest.verdict.capture.pairing import METHODS, PRODUCTION, SHADOW, Pairer
from airflow_provider_shadowtest.verdict.capture.records import (
    UNPARSABLE_OUTPUT,
    CaptureLineError,
    CaptureRecord,
    ProblemTally,
    parse_capture_line,
)

if TYPE_CHECKING:
    from airflow_provider_shadowtest.verdict.capture.settings import CaptureComparisonSettings

PASS: Final = "pass"
FAIL: Final = "fail"
INCONCLUSIVE: Final = "inconclusive"
SIDE_NAMES: Final = ("production", "shadow")
#: Label pairs listed in the confusion table; the rest are summed as "(other)".
MAX_CONFUSION_CELLS: Final = 50


def make_check(  # noqa: PLR0917 - the fields of a check, in the order of its dict
    name: str,
    metric: str,
    estimate: float | None,
    interval: tuple[float, float] | None,
    allowed_limit: float,
    decision: str,
    reason: str,
    *,
    critical: bool,
) -> dict[str, Any]:
    """One verdict check in the shape the judge includes."""
    return {
        "name": name,
        "metric": metric,
        "estimate": estimate,
        "interval_low": None if interval is None else interval[0],
        "interval_high": None if interval is None else interval[1],
        "allowed_limit": allowed_limit,
        "decision": decision,
        "reason": reason,
        "critical": critical,
    }


def decide_at_most(interval: tuple[float, float], limit: float) -> str:
    """``pass`` when the interval lies at or below ``limit``, ``fail`` when above it, else inconclusive."""
    low, high = interval
    if high <= limit:
        return PASS
    if low > limit:
        return FAIL
    return INCONCLUSIVE


def decide_at_least(interval: tuple[float, float], limit: float) -> str:
    """``pass`` when the interval lies at or above ``limit``, ``fail`` when below it, else inconclusive."""
    low, high = interval
    if low >= limit:
        return PASS
    if high < limit:
        return FAIL
    return INCONCLUSIVE


@dataclasses.dataclass(frozen=True)
class ComparisonResult:
    """The capture checks and the figures behind them (``details``, plain JSON)."""

    checks: list[dict[str, Any]]
    details: dict[str, Any]

    @property
    def decisive(self) -> bool:
        """True when no comparison check is inconclusive."""
        return all(check["decision"] != INCONCLUSIVE for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"checks": [dict(c) for c in self.checks], **self.details}


class CaptureComparison:
    """Accumulate both variants' capture records, pair them and compare the paired answers.

    :param settings: what to read and the limits of each check.
    :param window_start_seconds: records before this epoch time are ignored (counted).
    :param window_end_seconds: records at or after this epoch time are ignored (counted).
    """

    def __init__(
        self,
        settings: CaptureComparisonSettings,
        window_start_seconds: float | None = None,
        window_end_seconds: float | None = None,
    ) -> None:
        self.settings = settings
        self._fields = (settings.output, settings.shadow_output or settings.output)
        self._start = window_start_seconds
        self._end = window_end_seconds
        self.problems = (ProblemTally(), ProblemTally())
        self.outside_window = [0, 0]
        self.lines_read = [0, 0]
        self.objects_read = [0, 0]
        self.incomparable_pairs = 0
        self._labels: Counter[tuple[str, str]] = Counter()
        self._production_scores = array("d")
        self._shadow_scores = array("d")
        self._pairer = Pairer(settings.time_tolerance_seconds, self._compare_pair)

    # -- input ------------------------------------------------------------------------------------
    def add_line(self, side: int, line: bytes | str, where: str, line_number: int | None = None) -> None:
        """Parse one capture line of ``side`` (``PRODUCTION`` 0 or ``SHADOW`` 1); bad lines are counted.

        :param where: the object (its S3 URI), for the problem examples.
        :param line_number: the line's number in that object, 1-based.
        """
        self.lines_read[side] += 1
        if not line.strip():
            return
        try:
            record = parse_capture_line(line)
        except CaptureLineError as error:
            self.problems[side].add(error.kind, _at(where, line_number), str(error))
            return
        self.add_record(side, record, where, line_number)

    def add_record(self, side: int, record: CaptureRecord, where: str, line_number: int | None = None) -> None:
        """Read the compared value out of ``record`` and pair it."""
        when = record.time_seconds
        if (self._start is not None and when < self._start) or (self._end is not None and when >= self._end):
            self.outside_window[side] += 1
            return
        try:
            record.output = self._fields[side].read(record.output)
        except (ValueError, TypeError) as error:
            self.problems[side].add(UNPARSABLE_OUTPUT, _at(where, line_number), str(error))
            record.output = None
        self._pairer.add(side, record)

    def note_problem(self, side: int, kind: str, where: str, message: str) -> None:
        """Count a problem found outside a line: a missing prefix, an object that cannot be read."""
        self.problems[side].add(kind, where, message)

    def note_object(self, side: int) -> None:
        """Count one capture object read."""
        self.objects_read[side] += 1

    def advance(self, before_seconds: float) -> None:
        """Records before ``before_seconds`` will not get new partners: stop holding them."""
        self._pairer.expire(before_seconds - self.settings.time_tolerance_seconds)

    def _compare_pair(self, production: CaptureRecord, shadow: CaptureRecord) -> None:
        if production.output is None or shadow.output is None:
            self.incomparable_pairs += 1
            return
        if self.settings.kind == LABEL:
            self._labels[(str(production.output), str(shadow.output))] += 1
        else:
            self._production_scores.append(float(production.output))
            self._shadow_scores.append(float(shadow.output))

    # -- output -----------------------------------------------------------------------------------
    def finish(self) -> ComparisonResult:
        """Pair what is still waiting and return the checks with their figures."""
        self._pairer.finish()
        pairing_check, pairing = self._pairing()
        details: dict[str, Any] = {
            "kind": self.settings.kind,
            "settings": self.settings.to_json(),
            "records": {
                name: {
                    "objects": self.objects_read[i],
                    "lines": self.lines_read[i],
                    "in_window": self._pairer.total(i),
                    "outside_window": self.outside_window[i],
                }
                for i, name in enumerate(SIDE_NAMES)
            },
            "pairing": pairing,
            "problems": {name: self.problems[i].to_json() for i, name in enumerate(SIDE_NAMES)},
        }
        gate = None if pairing_check["decision"] == PASS else pairing_check["reason"]
        if self.settings.kind == LABEL:
            checks, details["labels"] = self._label_checks(gate)
        else:
            checks, details["scores"] = self._score_checks(gate)
        return ComparisonResult(checks=[pairing_check, *checks], details=details)

    def _pairing(self) -> tuple[dict[str, Any], dict[str, Any]]:
        s = self.settings
        shadow_total, paired = self._pairer.total(SHADOW), self._pairer.paired
        comparable = paired - self.incomparable_pairs
        figures = {
            "paired": paired,
            "comparable": comparable,
            "paired_percent": 100.0 * paired / shadow_total if shadow_total else None,
            "by_method": {m: self._pairer.paired_by[m] for m in METHODS},
            "unpaired_production": self._pairer.unpaired(PRODUCTION),
            "unpaired_shadow": self._pairer.unpaired(SHADOW),
            "incomparable": self.incomparable_pairs,
            "time_tolerance_seconds": s.time_tolerance_seconds,
        }
        if shadow_total == 0:
            check = make_check(
                "capture_pairing",
                "paired_shadow_percent",
                None,
                None,
                s.min_paired_percent,
                INCONCLUSIVE,
                "no shadow records were captured in the window",
                critical=False,
            )
            return check, figures
        low, high = stats.wilson_interval(paired, shadow_total, s.confidence)
        estimate = 100.0 * paired / shadow_total
        if comparable < s.min_pairs:
            decision = INCONCLUSIVE
            reason = f"only {comparable} comparable pairs, {s.min_pairs} needed"
        elif estimate < s.min_paired_percent:
            decision = INCONCLUSIVE
            reason = (
                f"only {estimate:.1f} % of {shadow_total} shadow records found their production record, "
                f"{s.min_paired_percent:g} % needed"
            )
        else:
            decision = PASS
            reason = f"{paired} of {shadow_total} shadow records paired ({estimate:.1f} %)"
        check = make_check(
            "capture_pairing",
            "paired_shadow_percent",
            estimate,
            (100 * low, 100 * high),
            s.min_paired_percent,
            decision,
            reason,
            critical=False,
        )
        return check, figures

    def _label_checks(self, gate: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        s = self.settings
        n = sum(self._labels.values())
        agree = sum(count for (p, sh), count in self._labels.items() if p == sh)
        cells = self._labels.most_common()
        confusion = [{"production": p, "shadow": sh, "count": c} for (p, sh), c in cells[:MAX_CONFUSION_CELLS]]
        rest = sum(c for _, c in cells[MAX_CONFUSION_CELLS:])
        if rest:
            confusion.append({"production": "(other)", "shadow": "(other)", "count": rest})
        figures: dict[str, Any] = {
            "pairs": n,
            "agreeing": agree,
            "agreement_percent": 100.0 * agree / n if n else None,
            "confusion": confusion,
            "production_labels": dict(_marginal(self._labels, 0)),
            "shadow_labels": dict(_marginal(self._labels, 1)),
        }
        if n == 0:
            check = make_check(
                "label_agreement",
                "agreement_percent",
                None,
                None,
                s.min_agreement_percent,
                INCONCLUSIVE,
                gate or "no comparable pairs",
                critical=True,
            )
            return [check], figures
        low, high = stats.wilson_interval(agree, n, s.confidence)
        interval = (100 * low, 100 * high)
        estimate = 100.0 * agree / n
        decision = decide_at_least(interval, s.min_agreement_percent)
        reason = (
            f"shadow agrees with production on {estimate:.2f} % of {n} labels "
            f"({interval[0]:.2f}-{interval[1]:.2f} % at {s.confidence:.0%}); at least "
            f"{s.min_agreement_percent:g} % required"
        )
        if gate is not None:
            decision, reason = INCONCLUSIVE, f"{gate}; {reason}"
        return [
            make_check(
                "label_agreement",
                "agreement_percent",
                estimate,
                interval,
                s.min_agreement_percent,
                decision,
                reason,
                critical=True,
            )
        ], figures

    def _score_checks(self, gate: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        s = self.settings
        n = len(self._production_scores)
        percentile = s.score_difference_percentile
        metric = f"abs_difference_p{percentile:g}"
        if n == 0:
            reason = gate or "no comparable pairs"
            checks = [
                make_check(
                    "score_difference", metric, None, None, s.max_score_difference, INCONCLUSIVE, reason, critical=True
                ),
                make_check("score_psi", "psi", None, None, s.max_psi, INCONCLUSIVE, reason, critical=False),
                make_check("score_ks", "ks_statistic", None, None, s.max_ks, INCONCLUSIVE, reason, critical=False),
            ]
            return checks, {"pairs": 0}
        import numpy as np

        production = np.frombuffer(self._production_scores, dtype=np.float64)
        shadow = np.frombuffer(self._shadow_scores, dtype=np.float64)
        differences = np.sort(np.abs(shadow - production))
        estimate, low, high = stats.quantile_interval(differences, percentile / 100, s.confidence)
        psi = stats.psi_with_interval(production, shadow, s.psi_bins, s.confidence)
        ks = stats.ks_with_interval(production, shadow, s.confidence)
        figures = {
            "pairs": n,
            "abs_difference": {f"p{q:g}": float(np.quantile(differences, q / 100)) for q in (50, 90, 95, 99)}
            | {"max": float(differences[-1]), "mean": float(differences.mean())},
            "production_mean": float(production.mean()),
            "shadow_mean": float(shadow.mean()),
            "mean_shift": float(shadow.mean() - production.mean()),
            "psi": psi,
            "ks": ks,
        }
        level = f"at {s.confidence:.0%}"
        diff_decision = decide_at_most((low, high), s.max_score_difference)
        diff_reason = (
            f"p{percentile:g} of |shadow - production| is {estimate:.4g} ({low:.4g}-{high:.4g} {level}) "
            f"over {n} pairs; at most {s.max_score_difference:g} allowed"
        )
        psi_decision = decide_at_most((psi["low"], psi["high"]), s.max_psi)
        psi_reason = (
            f"PSI of the shadow's scores against production's is {psi['psi']:.4f} "
            f"({psi['low']:.4f}-{psi['high']:.4f} {level}); at most {s.max_psi:g} allowed"
        )
        ks_decision = decide_at_most((ks["low"], ks["high"]), s.max_ks)
        ks_reason = (
            f"KS distance is {ks['statistic']:.4f} ({ks['low']:.4f}-{ks['high']:.4f} {level}, "
            f"p = {ks['pvalue']:.3g}); at most {s.max_ks:g} allowed"
        )
        if gate is not None:
            diff_decision = psi_decision = ks_decision = INCONCLUSIVE
            diff_reason, psi_reason, ks_reason = (f"{gate}; {r}" for r in (diff_reason, psi_reason, ks_reason))
        checks = [
            make_check(
                "score_difference",
                metric,
                estimate,
                (low, high),
                s.max_score_difference,
                diff_decision,
                diff_reason,
                critical=True,
            ),
            make_check(
                "score_psi",
                "psi",
                psi["psi"],
                (psi["low"], psi["high"]),
                s.max_psi,
                psi_decision,
                psi_reason,
                critical=False,
            ),
            make_check(
                "score_ks",
                "ks_statistic",
                ks["statistic"],
                (ks["low"], ks["high"]),
                s.max_ks,
                ks_decision,
                ks_reason,
                critical=False,
            ),
        ]
        return checks, figures


def _at(where: str, line_number: int | None) -> str:
    return where if line_number is None else f"{where}:{line_number}"


def _marginal(cells: Counter[tuple[str, str]], index: int) -> Counter[str]:
    totals: Counter[str] = Counter()
    for key, count in cells.items():
        totals[key[index]] += count
    return totals
