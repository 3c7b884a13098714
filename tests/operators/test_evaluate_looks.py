"""Continuous mode's bookkeeping between looks: pure functions over the JSON state."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from airflow_provider_shadowtest.operators.evaluate_config import EvaluateConfig, build_config
from airflow_provider_shadowtest.operators.evaluate_looks import (
    first_look_at,
    initial_state,
    is_final_look,
    next_look_at,
    observation_end,
    ramped_shadow_mode,
    record_look,
    start_ramp,
)

UTC = dt.timezone.utc
START = dt.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SUBJECT = {
    "endpoint": "ep",
    "production": "prod",
    "shadow": "cand",
    "start": "2030-01-01T12:00:00Z",
    "end": "2030-01-01T14:00:00Z",
    "shadow_instance_count": 1,
}


def config(**changes: Any) -> EvaluateConfig:
    values: dict[str, Any] = {
        "max_latency_increase_percent": None,
        "max_error_rate_increase_percentage_points": None,
        "min_shadow_invocations": None,
        "promote_on_insufficient_data": False,
        "confidence_percent": 95,
        "check_settings": None,
        "warmup_seconds": 300,
        "lag_seconds": 180,
        "observation_seconds": 3600,
        "check_interval_seconds": 600,
        "alpha_spending": "pocock",
        "ramp_to_full_sampling": True,
        "ramp_observation_seconds": 1800,
        "capture_comparison": None,
        "experiment_name": "exp",
    }
    values.update(changes)
    return build_config(**values)


def test_observation_ends_at_start_plus_observation_or_the_schedule_end() -> None:
    assert observation_end(SUBJECT, config(), "observe") == "2030-01-01T13:00:00Z"
    assert observation_end(SUBJECT, config(observation_seconds=3 * 3600), "observe") == "2030-01-01T14:00:00Z"
    assert observation_end({**SUBJECT, "end": None}, config(observation_seconds=3 * 3600), "observe") == (
        "2030-01-01T15:00:00Z"
    )
    assert observation_end(SUBJECT, config(), "ramp") == "2030-01-01T12:30:00Z"


def test_first_look_waits_for_warmup_one_interval_and_the_lag() -> None:
    state = initial_state(SUBJECT, config())
    assert first_look_at(state, config()) == START + dt.timedelta(seconds=300 + 600 + 180)


def test_no_look_is_planned_after_the_final_one() -> None:
    state = initial_state(SUBJECT, config())
    final_at = START + dt.timedelta(hours=1, seconds=180)
    assert next_look_at(state, config(), final_at + dt.timedelta(minutes=5)) == final_at
    early = START + dt.timedelta(minutes=30)
    assert next_look_at(state, config(), early) == early


def test_the_look_after_the_observation_and_its_lag_is_final() -> None:
    state = initial_state(SUBJECT, config())
    final_at = START + dt.timedelta(hours=1, seconds=180)
    assert not is_final_look(state, config(), final_at - dt.timedelta(seconds=2))
    assert is_final_look(state, config(), final_at - dt.timedelta(seconds=1))


def test_record_look_advances_the_counter_and_stays_json() -> None:
    state = initial_state(SUBJECT, config())
    now = START + dt.timedelta(minutes=20)
    record_look(state, now=now, decision=None, fraction=0.123456, look_confidence_percent=99.1)
    record_look(state, now=now, decision="REJECT", fraction=0.25, look_confidence_percent=98.0)
    assert [look["decision"] for look in state["looks"]] == ["continue", "REJECT"]
    assert [look["look"] for look in state["looks"]] == [1, 2]
    assert state["looks"][0]["information_fraction"] == 0.1235
    assert (state["look"], state["fraction"]) == (3, 0.25)
    assert json.loads(json.dumps(state)) == state


def test_ramp_raises_only_the_shadow_and_keeps_the_rest() -> None:
    described: dict[str, Any] = {
        "ShadowModeConfig": {
            "SourceModelVariantName": "prod",
            "ShadowModelVariants": [
                {"ShadowModelVariantName": "cand", "SamplingPercentage": 30},
                {"ShadowModelVariantName": "other", "SamplingPercentage": 20},
            ],
        }
    }
    ramped = ramped_shadow_mode(described, "cand")
    assert ramped is not None
    before, shadow_mode = ramped
    assert before == 30
    assert shadow_mode == {
        "SourceModelVariantName": "prod",
        "ShadowModelVariants": [
            {"ShadowModelVariantName": "cand", "SamplingPercentage": 100},
            {"ShadowModelVariantName": "other", "SamplingPercentage": 20},
        ],
    }
    assert described["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 30  # not mutated
    assert ramped_shadow_mode(shadow_mode_at(100), "cand") is None
    assert ramped_shadow_mode(shadow_mode_at(30), "missing") is None


def shadow_mode_at(percent: int) -> dict[str, Any]:
    return {
        "ShadowModeConfig": {"ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": percent}]}
    }


def test_start_ramp_begins_a_fresh_phase_at_now() -> None:
    state = initial_state(SUBJECT, config())
    record_look(state, now=START, decision="PROMOTE", fraction=0.6, look_confidence_percent=97.0)
    now = START + dt.timedelta(minutes=40)
    verdict = {"decision": "PROMOTE", "reasons": ["all within"], "sequential": {"look": 1}}
    start_ramp(state, before_percent=30, first_verdict=verdict, now=now, config=config())
    assert (state["phase"], state["look"], state["fraction"]) == ("ramp", 1, 0.0)
    assert state["subject"]["start"] == "2030-01-01T12:40:00Z"
    assert state["observation_end"] == "2030-01-01T13:10:00Z"
    assert state["ramp"]["first_verdict"] == verdict
    assert state["ramp"]["from_sampling_percent"] == 30
    assert len(state["looks"]) == 1
