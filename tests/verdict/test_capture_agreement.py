"""The pure capture comparison: parsing, pairing, label and score checks, bad input."""

from __future__ import annotations

import json
import random

import pytest

from airflow_provider_shadowtest.verdict.capture import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    PRODUCTION,
    SHADOW,
    CaptureComparison,
    CaptureComparisonSettings,
    InvalidCaptureSettings,
    OutputField,
    render_capture_markdown,
)
from airflow_provider_shadowtest.verdict.capture.pairing import Pairer
from airflow_provider_shadowtest.verdict.capture.records import (
    CaptureLineError,
    CaptureRecord,
    parse_capture_line,
)
from airflow_provider_shadowtest.verdict.capture.stats import quantile_interval, wilson_interval
from tests.verdict.capture_lines import capture_line

LABELS = CaptureComparisonSettings(output=OutputField(kind="label", json_path="$.label"), min_pairs=50)
SCORES = CaptureComparisonSettings(output=OutputField(kind="score", json_path="$.score"), min_pairs=50)


def _check(result: object, name: str) -> dict[str, object]:
    return next(c for c in result.checks if c["name"] == name)  # type: ignore[attr-defined]


def _labels(n: int, disagree: float, seed: int = 1, shadow_share: float = 1.0) -> CaptureComparison:
    rng = random.Random(seed)
    comparison = CaptureComparison(LABELS)
    for i in range(n):
        request, label = f"{rng.random():.6f},{i}", rng.choice(["cat", "dog"])
        comparison.add_line(PRODUCTION, capture_line(i, request, json.dumps({"label": label}), event_id=f"p{i}"), "p")
        if rng.random() < shadow_share:
            answer = ("dog" if label == "cat" else "cat") if rng.random() < disagree else label
            comparison.add_line(SHADOW, capture_line(i, request, json.dumps({"label": answer}), event_id=f"s{i}"), "s")
    return comparison


def test_an_agreeing_candidate_passes_and_one_that_disagrees_on_ten_percent_fails() -> None:
    good = _labels(3000, disagree=0.005).finish()
    bad = _labels(3000, disagree=0.10).finish()
    assert _check(good, "label_agreement")["decision"] == PASS
    low = float(_check(good, "label_agreement")["interval_low"])  # type: ignore[arg-type]
    assert 95.0 <= low < 99.5
    failing = _check(bad, "label_agreement")
    assert failing["decision"] == FAIL
    assert 88 < float(failing["estimate"]) < 92  # type: ignore[arg-type]
    confusion = {(c["production"], c["shadow"]): c["count"] for c in bad.details["labels"]["confusion"]}
    assert confusion[("cat", "dog")] + confusion[("dog", "cat")] == 3000 - bad.details["labels"]["agreeing"]


def test_an_interval_straddling_the_limit_is_inconclusive() -> None:
    result = _labels(400, disagree=0.05, seed=4).finish()
    check = _check(result, "label_agreement")
    assert float(check["interval_low"]) < 95.0 < float(check["interval_high"])  # type: ignore[arg-type]
    assert check["decision"] == INCONCLUSIVE


def test_few_pairs_are_inconclusive_not_a_guess() -> None:
    result = _labels(30, disagree=0.5).finish()
    assert _check(result, "capture_pairing")["decision"] == INCONCLUSIVE
    assert _check(result, "label_agreement")["decision"] == INCONCLUSIVE
    assert "comparable pairs" in str(_check(result, "label_agreement")["reason"])


def test_a_shadow_that_finds_few_partners_is_inconclusive() -> None:
    comparison = CaptureComparison(LABELS)
    for i in range(400):  # the shadow saw different requests: nothing pairs by input
        comparison.add_line(PRODUCTION, capture_line(i, f"p{i}", '{"label": "a"}', event_id=f"p{i}"), "p")
        comparison.add_line(SHADOW, capture_line(i, f"s{i}", '{"label": "a"}', event_id=f"s{i}"), "s")
    result = comparison.finish()
    pairing = _check(result, "capture_pairing")
    assert pairing["decision"] == INCONCLUSIVE
    assert pairing["estimate"] == 0.0
    assert result.details["pairing"]["unpaired_shadow"] == 400


def test_pairs_by_inference_id_then_event_id_then_input() -> None:
    pairs: list[tuple[CaptureRecord, CaptureRecord]] = []
    pairer = Pairer(5.0, lambda p, s: pairs.append((p, s)))
    pairer.add(SHADOW, CaptureRecord(100.0, "s1", "id-1", hash("x"), "a"))  # shadow first: either order works
    pairer.add(PRODUCTION, CaptureRecord(101.0, "p1", "id-1", hash("other body"), "a"))
    pairer.add(PRODUCTION, CaptureRecord(102.0, "same-event", None, hash("y"), "b"))
    pairer.add(SHADOW, CaptureRecord(102.0, "same-event", None, hash("z"), "b"))
    pairer.add(PRODUCTION, CaptureRecord(103.0, "p3", None, hash("body"), "c"))
    pairer.add(SHADOW, CaptureRecord(110.0, "s3", None, hash("body"), "c"))  # 7 s later: beyond the tolerance
    pairer.add(SHADOW, CaptureRecord(104.0, "s4", None, hash("body"), "c"))
    assert dict(pairer.paired_by) == {"inference_id": 1, "event_id": 1, "input": 1}
    assert [(p.event_id, s.event_id) for p, s in pairs] == [("p1", "s1"), ("same-event", "same-event"), ("p3", "s4")]
    pairer.finish()
    assert pairer.unpaired(SHADOW) == 1


def test_expire_releases_waiting_records() -> None:
    pairer = Pairer(1.0, lambda p, s: None)
    for i in range(1000):
        pairer.add(PRODUCTION, CaptureRecord(float(i), f"p{i}", None, i, "a"))
    pairer.expire(900.0)
    assert pairer.unpaired(PRODUCTION) == 900
    assert len(pairer._sides[PRODUCTION].by_input) == 100
    assert len(pairer._sides[PRODUCTION].by_event) == 100


def test_scores_shift_fails_psi_and_ks_while_equal_scores_pass() -> None:
    rng = random.Random(3)

    def run(shift: float) -> object:
        comparison = CaptureComparison(SCORES)
        for i in range(4000):
            truth = rng.betavariate(2, 5)
            request = f"{i},{truth}"
            comparison.add_line(
                PRODUCTION, capture_line(i, request, json.dumps({"score": truth}), event_id=f"p{i}"), "p"
            )
            shadow = min(1.0, truth + shift + rng.gauss(0, 0.005))
            comparison.add_line(SHADOW, capture_line(i, request, json.dumps({"score": shadow}), event_id=f"s{i}"), "s")
        return comparison.finish()

    same, shifted = run(0.0), run(0.2)
    assert [c["decision"] for c in same.checks] == [PASS, PASS, PASS, PASS]  # type: ignore[attr-defined]
    assert _check(shifted, "score_difference")["decision"] == FAIL
    assert _check(shifted, "score_psi")["decision"] == FAIL
    assert _check(shifted, "score_ks")["decision"] == FAIL
    assert "PSI" in render_capture_markdown(shifted)  # type: ignore[arg-type]


def test_bad_lines_are_counted_by_kind_never_raised_never_dropped() -> None:
    comparison = CaptureComparison(LABELS)
    good = capture_line(1, "1,2", '{"label": "a"}')
    lines = [
        "{not json",
        "[1, 2]",
        json.dumps({"eventMetadata": {"inferenceTime": "2030-01-06T00:00:01Z"}}),
        good.replace("2030-01-06T00:00:01Z", "yesterday"),
        good.replace('"encoding": "JSON"', '"encoding": "UTF-16"'),
        capture_line(1, "1,2", "not base64!", encoding="BASE64").replace('"data": "bm90', '"data": "%%%'),
        capture_line(1, "1,2", '{"score": 1}'),  # no label there
        capture_line(1, "1,2", '{"label": "a"}', encoding="BASE64"),  # base64 is fine
    ]
    for i, line in enumerate(lines):
        comparison.add_line(SHADOW, line, f"key:{i + 1}")
    problems = comparison.finish().details["problems"]["shadow"]
    assert problems["counts"] == {
        "bad_base64": 1,
        "bad_time": 1,
        "malformed_line": 2,
        "missing_field": 1,
        "unknown_encoding": 1,
        "unparsable_output": 1,
    }
    assert problems["examples"][0].startswith("malformed_line at key:1")
    assert comparison._pairer.total(SHADOW) == 2  # the unreadable answer still counts as a request


def test_parse_line_decodes_base64_and_keeps_ids() -> None:
    record = parse_capture_line(capture_line(61, "1,2", '{"label": "a"}', inference_id="abc", encoding="BASE64"))
    assert record.output == '{"label": "a"}'
    assert record.inference_id == "abc"
    assert record.time_seconds % 3600 == 61
    with pytest.raises(CaptureLineError) as error:
        parse_capture_line('{"captureData": {}, "eventMetadata": {}}')
    assert error.value.kind == "missing_field"


def test_output_fields_read_json_paths_and_csv_columns() -> None:
    assert (
        OutputField(kind="score", json_path="$.predictions[0].score").read('{"predictions": [{"score": 0.25}]}') == 0.25
    )
    assert OutputField(kind="label", json_path="$").read("3.0") == "3"
    assert OutputField(kind="label", csv_column=1).read('0.9,"spam, eggs"\n0.1,ham') == "spam, eggs"
    with pytest.raises(ValueError, match="csv_column 4"):
        OutputField(kind="score", csv_column=4).read("1,2")
    with pytest.raises(ValueError, match="not finite"):
        OutputField(kind="score", json_path="$.s").read('{"s": NaN}')


def test_invalid_settings_name_every_field() -> None:
    with pytest.raises(InvalidCaptureSettings) as error:
        CaptureComparisonSettings.from_mapping(
            {"output": {"kind": "probability", "json_path": "a..b"}, "min_agreement_percent": 101}
        )
    assert [path for path, _ in error.value.errors] == ["output.kind", "output.json_path"]
    with pytest.raises(InvalidCaptureSettings) as error:
        CaptureComparisonSettings.from_mapping({"output": {"kind": "label", "csv_column": 0}, "max_psi": -1, "x": 1})
    assert [path for path, _ in error.value.errors] == ["x"]
    with pytest.raises(InvalidCaptureSettings, match="max_psi"):
        CaptureComparisonSettings.from_mapping({"output": {"kind": "label", "csv_column": "0"}, "max_psi": -1})


def test_intervals() -> None:
    low, high = wilson_interval(90, 100, 0.95)
    assert low == pytest.approx(0.8256, abs=1e-3)
    assert high == pytest.approx(0.9448, abs=1e-3)
    values = list(range(1001))
    estimate, low_q, high_q = quantile_interval(values, 0.5, 0.95)
    assert estimate == 500
    assert 460 < low_q < 500 < high_q < 540


def test_the_core_imports_no_heavy_or_aws_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, airflow_provider_shadowtest.verdict.capture\n"
        "heavy = [m for m in ('numpy', 'scipy', 'boto3', 'botocore', 'moto', 'airflow') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
