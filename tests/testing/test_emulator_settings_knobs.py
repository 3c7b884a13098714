"""The settings this round added: request size limit, CloudWatch lag, percentile switch."""

from __future__ import annotations

import pytest

from airflow_provider_shadowtest.testing.server import _parser, settings_from_args
from airflow_provider_shadowtest.testing.settings import EmulatorSettings


def test_flags_and_environment() -> None:
    args = _parser().parse_args(["--max-request-bytes", "2048", "--cloudwatch-lag-seconds", "90", "--no-percentiles"])
    settings = settings_from_args(args)
    assert (settings.max_request_bytes, settings.cloudwatch_lag_seconds, settings.percentiles_available) == (
        2048,
        90.0,
        False,
    )
    assert settings_from_args(_parser().parse_args([])).percentiles_available is True
    env = {
        "SHADOWTEST_MAX_REQUEST_BYTES": "4096",
        "SHADOWTEST_CLOUDWATCH_LAG_SECONDS": "120",
        "SHADOWTEST_PERCENTILES_AVAILABLE": "false",
    }
    from_env = EmulatorSettings.from_env(env)
    assert (from_env.max_request_bytes, from_env.cloudwatch_lag_seconds, from_env.percentiles_available) == (
        4096,
        120.0,
        False,
    )
    assert from_env.to_json()["percentiles_available"] is False


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"max_request_bytes": 0}, "max_request_bytes"),
        ({"max_request_bytes": True}, "max_request_bytes"),
        ({"cloudwatch_lag_seconds": -1}, "cloudwatch_lag_seconds"),
        ({"percentiles_available": "no"}, "percentiles_available"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(changes: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        EmulatorSettings().replace(**changes)


def test_bad_boolean_in_the_environment() -> None:
    with pytest.raises(ValueError, match="SHADOWTEST_PERCENTILES_AVAILABLE"):
        EmulatorSettings.from_env({"SHADOWTEST_PERCENTILES_AVAILABLE": "maybe"})
