"""Evidence: only whole periods inside the judged window count; pairs need both variants."""

from __future__ import annotations

import datetime as dt

from airflow_provider_shadowtest.verdict.evidence import VariantSeries, restrict

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
START = int(T0.timestamp())


def test_only_whole_periods_inside_the_window_are_kept() -> None:
    minutes = {START + 60 * i: float(i) for i in range(10)}
    series = VariantSeries("v", {"Invocations": minutes})
    # From 12:01:30 to 12:05:30: minutes 12:02, 12:03, 12:04 lie wholly inside.
    window = (T0 + dt.timedelta(seconds=90), T0 + dt.timedelta(seconds=330))
    evidence = restrict(series, series, 60, window)
    assert sorted(evidence.shadow.series("Invocations")) == [START + 120, START + 180, START + 240]
    assert evidence.shadow.total("Invocations") == 2 + 3 + 4
    assert evidence.judged_seconds == 240


def test_pairs_need_a_value_from_both_variants() -> None:
    production = VariantSeries("p", {"ModelLatency.p99": {START: 1.0, START + 60: 2.0}})
    shadow = VariantSeries("s", {"ModelLatency.p99": {START + 60: 3.0, START + 120: 4.0}})
    evidence = restrict(production, shadow, 60, (T0, T0 + dt.timedelta(minutes=5)))
    assert evidence.paired("ModelLatency.p99") == [(2.0, 3.0)]
    assert evidence.paired("ModelLatency.p50") == []
