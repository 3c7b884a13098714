"""The Markdown report: a heading with the decision, one table row per check, the reasons."""

from __future__ import annotations

import datetime as dt

from airflow_provider_shadowtest.verdict import VariantMetrics, VerdictThresholds, evaluate, render_markdown

START = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def variant(name: str, invocations: float, p99_us: float | None, errors_5xx: float = 0) -> VariantMetrics:
    return VariantMetrics(
        name,
        invocations,
        {"4xx": 0.0, "5xx": errors_5xx, "model": 0.0},
        {"average": 40_000.0, "p99": p99_us},
    )


def test_reject_report_renders_the_whole_table() -> None:
    verdict = evaluate(
        variant("AllTraffic", 12_000, 95_000, errors_5xx=12),
        variant("candidate", 6_000, 120_000, errors_5xx=60),
        VerdictThresholds(
            max_latency_increase_percent={"average": 10, "p99": 10},
            max_error_rate_increase_percentage_points={"5xx": 0.5},
        ),
        experiment_name="exp-1",
        endpoint_name="ep",
        window_start=START,
        window_end=START + dt.timedelta(hours=2),
    )
    assert render_markdown(verdict) == (
        "### Shadow test verdict: REJECT\n"
        "\n"
        "Experiment `exp-1` on endpoint `ep`; production `AllTraffic` vs shadow `candidate`; "
        "2025-03-01 12:00:00 UTC to 2025-03-01 14:00:00 UTC.\n"
        "\n"
        "| Check | Production | Shadow | Change | Allowed | Result |\n"
        "|:--|--:|--:|--:|--:|:--|\n"
        "| Invocations | 12,000 | 6,000 | 50.0 % of production | shadow >= 100 | pass |\n"
        "| Model latency mean | 40.00 ms | 40.00 ms | +0.0 % | <= +10 % | pass |\n"
        "| Model latency p99 | 95.00 ms | 120.00 ms | +26.3 % | <= +10 % | **FAIL** |\n"
        "| 5XX error rate | 0.10 % | 1.00 % | +0.90 pp | <= +0.5 pp | **FAIL** |\n"
        "\n"
        "Reasons:\n"
        "- Model latency p99: shadow 120.000 ms vs production 95.000 ms (+26.3 %), more than the allowed +10 %\n"
        "- 5XX error rate: shadow 1.00 % vs production 0.10 % (+0.90 pp), more than the allowed +0.5 pp\n"
    )


def test_missing_values_show_a_dash_and_the_note() -> None:
    verdict = evaluate(variant("p", 500, 95_000), variant("s", 50, None))
    report = render_markdown(verdict)
    assert report.startswith("### Shadow test verdict: INCONCLUSIVE\n")
    assert "| Invocations | 500 | 50 | 10.0 % of production | shadow >= 100 | **FAIL** |" in report
    assert "| Model latency p99 | 95.00 ms | - | - | <= +10 % | n/a (no p99 datapoint for shadow) |" in report
    assert "- Invocations: 50 shadow invocations, at least 100 needed for a decision" in report
    # Without experiment metadata the subject line still names both variants.
    assert "\nproduction `p` vs shadow `s`.\n" in report


def test_pipes_in_names_do_not_break_the_table() -> None:
    verdict = evaluate(variant("a|b", 500, 1.0), variant("s", 500, 1.0))
    for line in render_markdown(verdict).splitlines():
        if line.startswith("| Model latency"):
            assert line.count(" | ") == 5


def test_start_and_end_read_alike_in_whole_seconds() -> None:
    # A window cut at "now" carries microseconds; the report shows both ends the same way.
    end = START + dt.timedelta(hours=1, microseconds=734_512)
    verdict = evaluate(variant("p", 500, 1.0), variant("s", 500, 1.0), window_start=START, window_end=end)
    assert "; 2025-03-01 12:00:00 UTC to 2025-03-01 13:00:00 UTC.\n" in render_markdown(verdict)
