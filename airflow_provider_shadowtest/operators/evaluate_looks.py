"""Continuous mode's bookkeeping between looks, as plain functions over a JSON-safe state.

The state travels in the trigger event between deferred looks (Airflow 3.3 drops ``defer``'s
kwargs under ``dag.test()``), so it is a dict of JSON values:

``phase``
    ``"observe"``, or ``"ramp"`` after the shadow's sampling was raised to 100 %.
``look``
    the number of the next look in the phase, from 1.
``fraction``
    the information fraction reached at the previous look (alpha already spent).
``subject``
    endpoint, variant names, ``start`` (ISO-8601 UTC) and ``shadow_instance_count``.
``observation_end``
    when the phase's observation ends (ISO-8601 UTC).
``looks``
    one record per look taken: time, phase, decision (or ``"continue"``), fraction, confidence.
``ramp``
    None, or what the ramp changed and the first phase's verdict.

No Airflow import and no AWS I/O: the operator reads and writes, these functions decide.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.jsonsafe import to_utc_iso
from airflow_provider_shadowtest.parsing import parse_optional_time, parse_time

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_shadowtest.operators.evaluate_config import EvaluateConfig


def observation_end(subject: Mapping[str, Any], config: EvaluateConfig, phase: str) -> str:
    """When ``phase``'s observation ends: its start plus its observation, never past the schedule's end."""
    end = parse_time("start", subject["start"]) + dt.timedelta(seconds=config.observation_for(phase))
    scheduled = parse_optional_time("end", subject.get("end"))
    return to_utc_iso(min(end, scheduled) if scheduled else end)


def initial_state(subject: Mapping[str, Any], config: EvaluateConfig) -> dict[str, Any]:
    """The state before the first look of the observe phase."""
    return {
        "phase": "observe",
        "look": 1,
        "fraction": 0.0,
        "subject": dict(subject),
        "looks": [],
        "ramp": None,
        "observation_end": observation_end(subject, config, "observe"),
    }


def first_look_at(state: Mapping[str, Any], config: EvaluateConfig) -> dt.datetime:
    """The first look waits for one judged interval past the warm-up, plus the publication lag."""
    interval = config.plan_for(str(state["phase"])).check_interval_seconds
    start = parse_time("start", state["subject"]["start"])
    return start + dt.timedelta(seconds=config.warmup_seconds + interval + config.lag_seconds)


def next_look_at(state: Mapping[str, Any], config: EvaluateConfig, wanted: dt.datetime) -> dt.datetime:
    """``wanted``, or the final look's time (observation end + lag) when that comes first."""
    final_at = parse_time("observation_end", state["observation_end"]) + dt.timedelta(seconds=config.lag_seconds)
    return min(wanted, final_at)


def is_final_look(state: Mapping[str, Any], config: EvaluateConfig, now: dt.datetime) -> bool:
    """True once the observation has ended and CloudWatch has published its last minute."""
    ended = parse_time("observation_end", state["observation_end"])
    return now >= ended + dt.timedelta(seconds=config.lag_seconds - 1)


def record_look(
    state: dict[str, Any],
    *,
    now: dt.datetime,
    decision: str | None,
    fraction: float,
    look_confidence_percent: float | None,
) -> None:
    """Append the look just taken to ``state["looks"]`` and advance the look counter and fraction."""
    state["looks"].append(
        {
            "at": to_utc_iso(now),
            "phase": state["phase"],
            "look": state["look"],
            "decision": decision or "continue",
            "information_fraction": round(fraction, 4),
            "look_confidence_percent": look_confidence_percent,
        }
    )
    state["look"] = int(state["look"]) + 1
    state["fraction"] = fraction


def ramped_shadow_mode(described: Mapping[str, Any], shadow: str) -> tuple[int | float, dict[str, Any]] | None:
    """The ``ShadowModeConfig`` with ``shadow`` at 100 % sampling, and the sampling before.

    None when the shadow already receives every request (or is not in the experiment): no ramp.
    The rest of the configuration is kept as Describe returned it.
    """
    shadow_mode = dict(described.get("ShadowModeConfig") or {})
    variants = [dict(v) for v in shadow_mode.get("ShadowModelVariants") or []]
    current = next((v for v in variants if v.get("ShadowModelVariantName") == shadow), None)
    if current is None or float(current.get("SamplingPercentage", 100)) >= 100:
        return None
    before: int | float = current["SamplingPercentage"]
    current["SamplingPercentage"] = 100
    shadow_mode["ShadowModelVariants"] = variants
    return before, shadow_mode


def start_ramp(
    state: dict[str, Any],
    *,
    before_percent: int | float,
    first_verdict: Mapping[str, Any],
    now: dt.datetime,
    config: EvaluateConfig,
) -> None:
    """Move ``state`` to the ramp phase, which starts ``now`` with fresh alpha and its own observation."""
    state["ramp"] = {
        "from_sampling_percent": before_percent,
        "to_sampling_percent": 100,
        "at": to_utc_iso(now),
        "first_verdict": {
            "decision": first_verdict["decision"],
            "reasons": first_verdict["reasons"],
            "sequential": first_verdict.get("sequential"),
        },
    }
    state["phase"], state["look"], state["fraction"] = "ramp", 1, 0.0
    state["subject"] = {**state["subject"], "start": to_utc_iso(now)}
    state["observation_end"] = observation_end(state["subject"], config, "ramp")
