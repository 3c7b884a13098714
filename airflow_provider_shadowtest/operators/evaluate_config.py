"""The evaluate operator's rendered arguments, checked all at once before any AWS call."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
from airflow_provider_shadowtest.parsing import parse_bool, parse_literal
from airflow_provider_shadowtest.verdict import SequentialPlan, VerdictThresholds, settings_from_thresholds

if TYPE_CHECKING:
    from airflow_provider_shadowtest.verdict import JudgeSettings
    from airflow_provider_shadowtest.verdict.capture import CaptureComparisonSettings


@dataclasses.dataclass(frozen=True)
class EvaluateConfig:
    """What the evaluate operator judges with, from its rendered arguments.

    :param settings: the judge's checks and confidence.
    :param warmup_seconds: time after the shadow starts serving that is not judged.
    :param lag_seconds: time before now that is not judged (CloudWatch publishes late).
    :param observation_seconds: continuous mode: the observation after the start; None: one look.
    :param check_interval_seconds: continuous mode: time between looks.
    :param plan: continuous mode's sequential plan (judged time = observation - warm-up).
    :param ramp_observation_seconds: observation after the ramp to 100 % sampling; None: no ramp.
    :param capture: the capture comparison settings, or None.
    """

    settings: JudgeSettings
    warmup_seconds: float
    lag_seconds: float
    observation_seconds: float | None = None
    check_interval_seconds: float | None = None
    plan: SequentialPlan | None = None
    ramp_observation_seconds: float | None = None
    ramp_plan: SequentialPlan | None = None
    capture: CaptureComparisonSettings | None = None

    def plan_for(self, phase: str) -> SequentialPlan:
        """The sequential plan of ``phase`` (``"observe"`` or ``"ramp"``)."""
        plan = self.ramp_plan if phase == "ramp" else self.plan
        if plan is None:  # pragma: no cover - guarded by the operator
            raise ValueError(f"no sequential plan for phase {phase!r}")
        return plan

    def observation_for(self, phase: str) -> float:
        """Seconds of observation of ``phase`` after its start."""
        seconds = self.ramp_observation_seconds if phase == "ramp" else self.observation_seconds
        return float(seconds or 0.0)


def _seconds(errors: list[tuple[str, str]], field: str, value: Any, *, minimum: float = 0.0) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.append((field, f"expected a number of seconds, got {value!r}"))
        return None
    if not number >= minimum:
        errors.append((field, f"expected a number of seconds >= {minimum:g}, got {value!r}"))
        return None
    return number


def _mapping(errors: list[tuple[str, str]], field: str, value: Any) -> Mapping[str, Any] | None:
    if value is None or value in ("", {}):
        return None
    if isinstance(value, str):
        try:
            value = parse_literal(value)
        except ValueError as err:
            errors.append((field, str(err)))
            return None
    if not isinstance(value, Mapping):
        errors.append((field, f"expected a mapping, got {value!r}"))
        return None
    return value


def build_config(
    *,
    max_latency_increase_percent: Any,
    max_error_rate_increase_percentage_points: Any,
    min_shadow_invocations: Any,
    promote_on_insufficient_data: Any,
    confidence_percent: Any,
    check_settings: Any,
    warmup_seconds: Any,
    lag_seconds: Any,
    observation_seconds: Any,
    check_interval_seconds: Any,
    alpha_spending: Any,
    ramp_to_full_sampling: Any,
    ramp_observation_seconds: Any,
    capture_comparison: Any,
    experiment_name: str | None,
) -> EvaluateConfig:
    """Check every argument; raise one error listing every problem with its field.

    :raises InvalidExperimentRequest: naming each bad field (nothing was sent to AWS).
    """
    errors: list[tuple[str, str]] = []
    settings = None
    checks = _mapping(errors, "check_settings", check_settings)
    try:
        thresholds = VerdictThresholds.from_values(
            max_latency_increase_percent=max_latency_increase_percent,
            max_error_rate_increase_percentage_points=max_error_rate_increase_percentage_points,
            min_shadow_invocations=min_shadow_invocations,
            promote_on_insufficient_data=promote_on_insufficient_data,
        )
        confidence = 95.0 if confidence_percent in (None, "") else float(confidence_percent)
        settings = settings_from_thresholds(thresholds, confidence_percent=confidence, check_settings=checks)
    except (TypeError, ValueError) as err:
        text = str(err)
        field, sep, message = text.partition(": ")
        if not sep or " " in field.split("[", 1)[0]:
            field, message = "confidence_percent" if "confidence" in text else "thresholds", text
        errors.append((field, message))
    warmup = _seconds(errors, "warmup_seconds", warmup_seconds)
    lag = _seconds(errors, "lag_seconds", lag_seconds)
    observation = _seconds(errors, "observation_seconds", observation_seconds, minimum=1.0)
    interval = _seconds(errors, "check_interval_seconds", check_interval_seconds, minimum=1.0)
    warmup = 300.0 if warmup is None else warmup
    lag = 180.0 if lag is None else lag
    spending = str(alpha_spending or "pocock")
    plan = ramp_plan = None
    ramp_seconds = None
    try:
        ramp = parse_bool("ramp_to_full_sampling", ramp_to_full_sampling or False)
    except ValueError as err:
        errors.append(("ramp_to_full_sampling", str(err).partition(": ")[2]))
        ramp = False
    if observation is not None:
        every = interval or min(300.0, observation)
        try:
            plan = SequentialPlan(observation - warmup, every, spending)  # type: ignore[arg-type]
        except ValueError as err:
            field, _, message = str(err).partition(": ")
            if field == "observation_seconds":
                message = f"must exceed warmup_seconds ({warmup:g}), got {observation:g}"
            errors.append((field if field != "spending" else "alpha_spending", message))
        if ramp:
            ramp_seconds = _seconds(errors, "ramp_observation_seconds", ramp_observation_seconds, minimum=1.0)
            ramp_seconds = observation if ramp_seconds is None else ramp_seconds
            try:
                ramp_plan = SequentialPlan(ramp_seconds - warmup, min(every, ramp_seconds - warmup), spending)  # type: ignore[arg-type]
            except ValueError as err:
                errors.append(("ramp_observation_seconds", str(err).partition(": ")[2]))
            if not experiment_name:
                errors.append(("ramp_to_full_sampling", "needs experiment_name (the ramp updates the experiment)"))
    elif ramp:
        errors.append(("ramp_to_full_sampling", "needs continuous mode (set observation_seconds)"))
    elif interval is not None:
        errors.append(("check_interval_seconds", "needs continuous mode (set observation_seconds)"))
    capture = None
    raw_capture = _mapping(errors, "capture_comparison", capture_comparison)
    if raw_capture is not None:
        from airflow_provider_shadowtest.verdict.capture import CaptureComparisonSettings, InvalidCaptureSettings

        try:
            capture = CaptureComparisonSettings.from_mapping(raw_capture)
        except InvalidCaptureSettings as err:
            errors += [(f"capture_comparison.{path}", message) for path, message in err.errors]
        if not experiment_name:
            errors.append(("capture_comparison", "needs experiment_name (its DataStorageConfig locates the captures)"))
    if errors or settings is None:
        raise InvalidExperimentRequest(errors, what=f"evaluation of {experiment_name or 'a shadow test'!r}")
    return EvaluateConfig(
        settings=settings,
        warmup_seconds=warmup,
        lag_seconds=lag,
        observation_seconds=observation,
        check_interval_seconds=plan.check_interval_seconds if plan else None,
        plan=plan,
        ramp_observation_seconds=ramp_seconds if ramp_plan else None,
        ramp_plan=ramp_plan,
        capture=capture,
    )
