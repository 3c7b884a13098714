"""The HTML report: self-contained, tolerant of what the verdict carries, small for a week of minutes."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from airflow_provider_shadowtest.verdict import Decision, VariantMetrics, evaluate
from airflow_provider_shadowtest.verdict.html_report import render_html_report
from tests.verdict.report_data import synthetic_verdict


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collector()
    parser.feed(html)
    return parser.tags


def _charts(html: str) -> dict[str, int]:
    """Chart id -> lines drawn (paths with at least two points)."""
    found: dict[str, int] = {}
    for figure in re.findall(r'<figure class="chart" data-chart="([^"]+)">(.*?)</figure>', html, re.S):
        chart_id, body = figure
        svg = body.split('<div class="legend">')[0]
        found[chart_id] = sum(1 for d in re.findall(r'class="line [^"]*" d="([^"]*)"', svg) if d.count("L") >= 1)
    return found


def test_a_full_verdict_draws_every_chart_with_both_variants() -> None:
    html = render_html_report(synthetic_verdict(90))

    charts = _charts(html)
    assert charts["model-latency"] == 8  # mean, p50, p90, p99 for production and shadow
    for chart in ("overhead-latency", "invocations", "error-rate-4xx", "error-rate-5xx", "cpuutilization"):
        assert charts[chart] == 2, chart
    assert 'class="band warmup"' in html
    assert 'class="band lag"' in html
    assert 'class="marker look"' in html
    assert 'class="marker decided"' in html
    assert "One point per minute." in html


def test_the_checks_table_shows_values_intervals_and_allowed_increase() -> None:
    verdict = synthetic_verdict(30)
    html = render_html_report(verdict)
    row = re.search(r'<tr data-check="latency_p99".*?</tr>', html, re.S)
    assert row is not None
    values = [float(v) for v in re.findall(r'data-value="([^"]+)"', row.group(0))]
    check = verdict["checks"][0]
    assert values == [check["production"], check["shadow"], check["change"], check["allowed_increase"]]
    assert "[-9.80, -4.60]" in row.group(0)
    assert "+10.0 %" in row.group(0)
    assert '<td class="result">within</td>' in row.group(0)
    assert "<dt>Confidence</dt><dd>95 %</dd>" in html
    assert "<dt>Continuous mode</dt><dd>look 3 of 6, decided early</dd>" in html
    assert "<dt>Shadow instance-hours saved</dt><dd>1.50</dd>" in html
    assert "ModelLatency.p90 was not checked" in html
    assert 'data-decision="PROMOTE"' in html
    assert verdict["reasons"][0] in html


def test_the_brief_s_flat_interval_keys_and_unbounded_ends_are_read() -> None:
    check = {"name": "x", "estimate": 1.0, "interval_low": -2.0, "interval_high": 3.5, "decision": "pass"}
    html = render_html_report({"decision": "PROMOTE", "checks": [check]})
    assert "[-2.00, +3.50]" in html
    unbounded = {"name": "y", "change": 1.0, "interval": {"low": -1.0, "high": None}, "outcome": "no_data"}
    html = render_html_report({"decision": "INCONCLUSIVE", "checks": [unbounded]})
    assert "[-1.00, unbounded]" in html
    assert '<td class="result">no data</td>' in html


def test_warm_up_is_shaded_before_the_judged_window_and_the_lag_after_it() -> None:
    html = render_html_report(synthetic_verdict(60))
    warmup = re.search(r'<rect class="band warmup" x="([\d.]+)" y="\d+" width="([\d.]+)"', html)
    lag = re.search(r'<rect class="band lag" x="([\d.]+)" y="\d+" width="([\d.]+)"', html)
    assert warmup is not None
    assert lag is not None
    assert float(warmup.group(1)) == 58.0  # from the plot's left edge: the series starts with the warm-up
    assert float(lag.group(1)) + float(lag.group(2)) >= 690  # up to the series' end


def test_the_report_loads_nothing_from_outside_and_follows_the_colour_scheme() -> None:
    html = render_html_report(synthetic_verdict(60))
    for tag, attrs in _tags(html):
        for name in ("src", "href"):
            assert not attrs.get(name), (tag, attrs)
        assert tag not in ("script", "link", "img", "iframe")
    assert "@media (prefers-color-scheme:dark)" in html
    assert "url(" not in html


def test_a_week_at_five_requests_per_second_stays_under_one_megabyte() -> None:
    html = render_html_report(synthetic_verdict(7 * 24 * 60))
    assert len(html.encode()) < 1_000_000
    assert "Each point is the mean of 17 one-minute values." in html
    assert max(d.count("L") for d in re.findall(r' d="([^"]*)"', html)) < 600


def test_todays_verdict_without_series_renders_its_checks() -> None:
    production = VariantMetrics("prod", 12_000, {"4xx": 2, "5xx": 10, "model": 0}, {"average": 41_000, "p99": 90_000})
    shadow = VariantMetrics("shadow", 1_200, {"4xx": 0, "5xx": 60, "model": 0}, {"average": 39_000, "p99": 88_000})
    verdict = evaluate(production, shadow, experiment_name="exp-a", endpoint_name="ep-a").to_json()
    assert verdict["decision"] == Decision.REJECT.value

    html = render_html_report(verdict)
    assert "No per-minute series in this verdict." in html
    assert re.search(r'<tr data-check="error_rate_5xx" class="result-fail">', html)
    assert 'Shadow test <span class="name">exp-a</span>' in html


@pytest.mark.parametrize(
    "verdict",
    [
        {},
        {"decision": "INCONCLUSIVE", "checks": "not a list", "window": [], "series": {"shadow": 3}},
        {"decision": "PROMOTE", "series": {"production": {"ModelLatency.p99": [["garbage", "x"], [None, 1]]}}},
        {"decision": "PROMOTE", "checks": [{"name": "x", "production": "1", "interval_low": None}]},
    ],
)
def test_odd_or_missing_parts_are_skipped_not_fatal(verdict: dict[str, Any]) -> None:
    html = render_html_report(verdict)
    assert html.startswith("<!DOCTYPE html>")
    assert html.endswith("</html>")


def test_the_judges_evidence_series_epoch_to_value_are_read() -> None:
    verdict = {
        "decision": "PROMOTE",
        "series": {
            "production": {"Invocations": {"1793606400": 300, "1793606460": 310}},
            "shadow": {"Invocations": {1_793_606_400: 150, 1_793_606_460: 160}},
        },
    }
    assert _charts(render_html_report(verdict)) == {"invocations": 2}


def test_series_keyed_by_variant_name_and_other_point_shapes_are_read() -> None:
    verdict: dict[str, Any] = {
        "decision": "PROMOTE",
        "variants": {"production": "v-prod", "shadow": "v-new"},
        "series": {
            "v-prod": {"invocations": {"timestamps": [1_790_000_000, 1_790_000_060], "values": [300, 310]}},
            "v-new": {"Invocations": [{"timestamp": 1_790_000_000_000, "value": 30}, {"t": 1_790_000_060, "v": 33}]},
        },
    }
    assert _charts(render_html_report(verdict)) == {"invocations": 2}


def test_text_from_the_verdict_is_escaped() -> None:
    html = render_html_report(
        {"decision": "REJECT", "experiment_name": "<script>alert(1)</script>", "reasons": ["a<b"]}
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "a&lt;b" in html


def test_a_lone_minute_is_drawn_as_a_dot() -> None:
    from airflow_provider_shadowtest.verdict.svg_chart import Line, render_chart

    svg = render_chart("t", "ms", [Line("a", [(0.0, 1.0), (60.0, None), (120.0, 2.0), (180.0, 3.0)], "production")])
    (path,) = re.findall(r' d="([^"]*)"', svg)
    assert path.count("M") == 2
    assert "h0.1M" in path  # the first minute stands alone
