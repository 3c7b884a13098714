"""Pure: continuous judging with repeated looks that do not inflate the error rates.

Each look judges the evidence so far at its own confidence, from a Lan-DeMets alpha-spending
function over the information fraction (judged time / planned judged time): look ``k`` may
spend ``alpha(t_k) - alpha(t_(k-1))`` on each side. Because the looks' spends add up to at most
``alpha`` (a union bound, conservative against the exact group-sequential boundaries), the chance
of a wrong REJECT (or a wrong PROMOTE) over all looks stays at most ``(100 - confidence) / 2``
percent, however many looks there are.

- ``pocock`` (default): ``alpha * ln(1 + (e - 1) t)``, spends early, so a clear regression is
  stopped within minutes;
- ``obrien_fleming``: ``2 - 2 Phi(z / sqrt(t))``, keeps almost all of alpha for the end.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Final, Literal

from airflow_provider_shadowtest.verdict.evaluate import Decision
from airflow_provider_shadowtest.verdict.judge import judge

if TYPE_CHECKING:
    from airflow_provider_shadowtest.verdict.evidence import Evidence
    from airflow_provider_shadowtest.verdict.judge import StatisticalVerdict
    from airflow_provider_shadowtest.verdict.settings import JudgeSettings

Spending = Literal["pocock", "obrien_fleming"]
SPENDING_FUNCTIONS: Final = ("pocock", "obrien_fleming")
#: The smallest spend a look can have (a confidence level must stay below 100 %).
_MIN_ALPHA: Final = 1e-12


def spent_alpha(fraction: float, alpha: float, spending: Spending = "pocock") -> float:
    """Alpha (one side) spent by information ``fraction`` (0..1) under the named spending function."""
    t = min(1.0, max(0.0, fraction))
    if t <= 0:
        return 0.0
    if spending == "pocock":
        return alpha * math.log1p((math.e - 1.0) * t)
    if spending == "obrien_fleming":
        from scipy.stats import norm

        z = float(norm.isf(alpha / 2.0))
        return float(2.0 * norm.sf(z / math.sqrt(t))) if t < 1 else alpha
    raise ValueError(f"spending: expected one of {SPENDING_FUNCTIONS}, got {spending!r}")


@dataclasses.dataclass(frozen=True)
class SequentialPlan:
    """The continuous mode's plan: how long to observe, how often to look, how to spend alpha.

    :param observation_seconds: planned judged time (after the warm-up) until the final look.
    :param check_interval_seconds: time between looks.
    :param spending: ``pocock`` or ``obrien_fleming``.
    """

    observation_seconds: float
    check_interval_seconds: float
    spending: Spending = "pocock"

    def __post_init__(self) -> None:
        if not self.observation_seconds > 0:
            raise ValueError(f"observation_seconds: expected seconds > 0, got {self.observation_seconds!r}")
        if not 0 < self.check_interval_seconds <= self.observation_seconds:
            raise ValueError(
                f"check_interval_seconds: expected seconds in (0, observation_seconds], "
                f"got {self.check_interval_seconds!r}"
            )
        if self.spending not in SPENDING_FUNCTIONS:
            raise ValueError(f"spending: expected one of {SPENDING_FUNCTIONS}, got {self.spending!r}")

    @property
    def planned_looks(self) -> int:
        """Looks when no look decides early."""
        return math.ceil(self.observation_seconds / self.check_interval_seconds)

    def fraction(self, judged_seconds: float) -> float:
        """Information fraction of ``judged_seconds`` (1 at or after the end)."""
        return min(1.0, max(0.0, judged_seconds / self.observation_seconds))

    def look_confidence_percent(self, confidence_percent: float, previous_fraction: float, fraction: float) -> float:
        """Two-sided confidence of the look at ``fraction`` after a look at ``previous_fraction``."""
        alpha_side = (100.0 - confidence_percent) / 200.0
        spend = spent_alpha(fraction, alpha_side, self.spending) - spent_alpha(
            previous_fraction, alpha_side, self.spending
        )
        return 100.0 * (1.0 - 2.0 * max(spend, _MIN_ALPHA))


@dataclasses.dataclass(frozen=True)
class Look:
    """One look's outcome: ``decision`` is REJECT, PROMOTE, INCONCLUSIVE (final look only) or None (continue)."""

    decision: Decision | None
    verdict: StatisticalVerdict
    fraction: float
    final: bool

    @property
    def should_continue(self) -> bool:
        """True when nothing is decided yet and the observation has not ended."""
        return self.decision is None


def look(
    evidence: Evidence,
    settings: JudgeSettings,
    plan: SequentialPlan,
    *,
    look_number: int,
    previous_fraction: float,
    shadow_instance_count: int,
    is_final: bool = False,
    experiment_name: str | None = None,
    endpoint_name: str | None = None,
) -> Look:
    """Judge the evidence so far as look ``look_number`` (1-based) of ``plan``.

    :param previous_fraction: the information fraction of the previous look (0 for the first);
        the caller keeps it between looks (e.g. in the trigger's event payload).
    :param shadow_instance_count: instances behind the shadow variant, for the instance-hours
        an early decision saves.
    :param is_final: the observation has ended (e.g. the experiment stopped, or the warm-up and
        lag left less judged time than planned): this look spends all remaining alpha and decides,
        INCONCLUSIVE when the evidence is still thin.
    :return: a :class:`Look`; its verdict carries ``sequential`` details in its JSON.
    """
    if look_number < 1:
        raise ValueError(f"look_number: expected 1 or more, got {look_number!r}")
    if not 0 <= previous_fraction <= 1:
        raise ValueError(f"previous_fraction: expected a number in [0, 1], got {previous_fraction!r}")
    final = is_final or plan.fraction(evidence.judged_seconds) >= 1.0
    fraction = 1.0 if final else plan.fraction(evidence.judged_seconds)
    if fraction <= previous_fraction and not final:
        # No new information since the last look: spend nothing, decide nothing.
        level = 100.0 * (1.0 - 2.0 * _MIN_ALPHA)
    else:
        level = plan.look_confidence_percent(settings.confidence_percent, previous_fraction, fraction)
    verdict = judge(
        evidence, settings, confidence_percent=level, experiment_name=experiment_name, endpoint_name=endpoint_name
    )
    decided = verdict.decision in (Decision.REJECT, Decision.PROMOTE)
    decision = verdict.decision if decided or final else None
    early = decided and not final
    remaining_seconds = max(0.0, plan.observation_seconds - evidence.judged_seconds) if early else 0.0
    details: dict[str, Any] = {
        "look": look_number,
        "planned_looks": plan.planned_looks,
        "information_fraction": fraction,
        "previous_information_fraction": previous_fraction,
        "look_confidence_percent": level,
        "overall_confidence_percent": settings.confidence_percent,
        "spending": plan.spending,
        "observation_seconds": plan.observation_seconds,
        "check_interval_seconds": plan.check_interval_seconds,
        "decided_early": early,
        "continue": decision is None,
        "shadow_instance_count": shadow_instance_count,
        "instance_hours_saved": shadow_instance_count * remaining_seconds / 3600.0,
    }
    verdict = dataclasses.replace(verdict, sequential=details)
    return Look(decision, verdict, fraction, final)
