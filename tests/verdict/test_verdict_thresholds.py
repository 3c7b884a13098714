"""VerdictThresholds: documented defaults, normalisation, templated values, clear errors."""

from __future__ import annotations

import dataclasses

import pytest

from airflow_provider_shadowtest.verdict import VerdictThresholds
from airflow_provider_shadowtest.verdict.thresholds import latency_statistic_key


def test_defaults_are_the_documented_ones() -> None:
    t = VerdictThresholds()
    assert dict(t.max_latency_increase_percent) == {"average": 10.0, "p50": 10.0, "p90": 10.0, "p99": 10.0}
    assert dict(t.max_error_rate_increase_percentage_points) == {"4xx": 0.5, "5xx": 0.5, "model": 0.5}
    assert t.min_shadow_invocations == 100
    assert t.promote_on_insufficient_data is False
    assert t.percentiles == ("p50", "p90", "p99")


def test_one_number_applies_to_every_default_statistic_and_kind() -> None:
    t = VerdictThresholds(max_latency_increase_percent=5, max_error_rate_increase_percentage_points=0)
    assert set(t.max_latency_increase_percent.values()) == {5.0}
    assert set(t.max_latency_increase_percent) == {"average", "p50", "p90", "p99"}
    assert dict(t.max_error_rate_increase_percentage_points) == {"4xx": 0.0, "5xx": 0.0, "model": 0.0}


def test_mapping_checks_exactly_the_named_statistics_with_aliases_and_none_switching_off() -> None:
    t = VerdictThresholds(
        max_latency_increase_percent={"mean": 5, "P99.9": 30, "p50": None},
        max_error_rate_increase_percentage_points={"Invocation5XXErrors": 1, "model_errors": 2},
    )
    assert dict(t.max_latency_increase_percent) == {"average": 5.0, "p99.9": 30.0}
    assert t.percentiles == ("p99.9",)
    assert dict(t.max_error_rate_increase_percentage_points) == {"5xx": 1.0, "model": 2.0}


def test_from_values_accepts_rendered_template_strings_and_keeps_defaults_for_none() -> None:
    t = VerdictThresholds.from_values(
        max_latency_increase_percent='{"p99": "20", "average": 7.5}',
        max_error_rate_increase_percentage_points="0.25",
        min_shadow_invocations="250",
        promote_on_insufficient_data="True",
    )
    assert dict(t.max_latency_increase_percent) == {"p99": 20.0, "average": 7.5}
    assert set(t.max_error_rate_increase_percentage_points.values()) == {0.25}
    assert t.min_shadow_invocations == 250
    assert t.promote_on_insufficient_data is True
    assert VerdictThresholds.from_values() == VerdictThresholds()


def test_thresholds_are_frozen_and_their_mappings_read_only() -> None:
    t = VerdictThresholds()
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.min_shadow_invocations = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.max_latency_increase_percent["p50"] = 99  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_latency_increase_percent": "ten"}, "max_latency_increase_percent: expected a number"),
        ({"max_latency_increase_percent": float("nan")}, "finite"),
        ({"max_latency_increase_percent": {"median": 5}}, "'median' is not a latency statistic"),
        ({"max_latency_increase_percent": True}, "expected a number"),
        ({"max_error_rate_increase_percentage_points": {"3xx": 1}}, "'3xx' is not an error kind"),
        ({"min_shadow_invocations": -1}, "min_shadow_invocations: expected a whole number >= 0"),
        ({"min_shadow_invocations": 1.5}, "whole number"),
        ({"promote_on_insufficient_data": "maybe"}, "promote_on_insufficient_data: expected true or false"),
    ],
)
def test_bad_values_name_the_parameter(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VerdictThresholds(**kwargs)  # type: ignore[arg-type]


def test_to_json_round_trips() -> None:
    t = VerdictThresholds(max_latency_increase_percent={"p90": 3}, min_shadow_invocations=7)
    assert VerdictThresholds(**t.to_json()) == t


def test_latency_statistic_key() -> None:
    assert latency_statistic_key("Average") == "average"
    assert latency_statistic_key("avg") == "average"
    assert latency_statistic_key("p100") == "p100"
    with pytest.raises(ValueError, match="percentile"):
        latency_statistic_key("p")


def test_a_mapping_rendered_by_jinja_as_a_python_literal_is_accepted() -> None:
    thresholds = VerdictThresholds.from_values(max_latency_increase_percent="{'p99': 20, 'average': None}")
    assert dict(thresholds.max_latency_increase_percent) == {"p99": 20.0}


def test_an_unparsable_mapping_names_the_field() -> None:
    with pytest.raises(ValueError, match="max_latency_increase_percent"):
        VerdictThresholds.from_values(max_latency_increase_percent="{'p99': }")
