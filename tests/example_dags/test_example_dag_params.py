"""The trigger forms explain themselves: every Param says what it accepts, and the tasks carry console links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
EXAMPLE_DAG_IDS = ("example_shadow_test_promotion", "example_retrain_then_shadow_test", "example_shadow_test_minimal")
#: Every operator of ours that works on an experiment; each must show the console links.
EXPERIMENT_TASK_TYPES = (
    "CreateInferenceExperimentOperator",
    "StartInferenceExperimentOperator",
    "UpdateInferenceExperimentOperator",
    "StopInferenceExperimentOperator",
    "DeleteInferenceExperimentOperator",
    "InferenceExperimentSensor",
    "EvaluateInferenceExperimentOperator",
)
CONSOLE_LINKS = {"SageMaker Shadow Test", "SageMaker Endpoint", "CloudWatch metrics"}


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=EXAMPLES, bundle_path=EXAMPLES)


def _description(param: Any) -> str:
    return str(param.description or param.schema.get("description_md") or "")


def _numbers_in(text: str) -> set[float]:
    """The numbers a reader sees in ``text`` ("2,505,600", "0.5", "100")."""
    return {float(n.replace(",", "")) for n in re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", text)}


def _params(dagbag: Any) -> list[tuple[str, str, Any]]:
    return [
        (dag_id, key, dagbag.dags[dag_id].params.get_param(key))
        for dag_id in EXAMPLE_DAG_IDS
        for key in dagbag.dags[dag_id].params
    ]


def test_every_param_has_a_title_and_a_description(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id, key, param in _params(dagbag):
        assert param.schema.get("title"), f"{dag_id}.{key} has no title"
        assert len(_description(param)) >= 40, f"{dag_id}.{key} does not say what it accepts"


def test_numeric_bounds_are_stated_in_words(dagbag) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for dag_id, key, param in _params(dagbag):
        schema = param.schema
        types = schema.get("type")
        if not {"integer", "number"} & set(types if isinstance(types, list) else [types]):
            continue
        assert "minimum" in schema, f"{dag_id}.{key} has no lower bound"
        assert "maximum" in schema, f"{dag_id}.{key} has no upper bound"
        stated = _numbers_in(_description(param))
        for bound in ("minimum", "maximum"):
            assert float(schema[bound]) in stated, f"{dag_id}.{key}: {bound} {schema[bound]} not in the description"
        if param.value is None:
            assert "Empty (default)" in _description(param), f"{dag_id}.{key}: an empty default is not explained"
        else:
            assert float(param.value) in stated, f"{dag_id}.{key}: the default {param.value} is not explained"
        checked += 1
    assert checked >= 10


def test_string_patterns_are_stated_with_an_example(dagbag) -> None:  # type: ignore[no-untyped-def]
    checked = 0
    for dag_id, key, param in _params(dagbag):
        schema = param.schema
        if "pattern" not in schema:
            continue
        text = _description(param)
        assert re.search(r"characters|ISO-8601|`ml\.<family>", text), f"{dag_id}.{key}: allowed format unstated"
        examples = re.findall(r"`([^`]*)`", text) + list(schema.get("examples") or [])
        valid = [e for e in examples if re.search(schema["pattern"], e)]
        assert valid, f"{dag_id}.{key}: no example that the pattern accepts"
        if "maxLength" in schema:
            assert float(schema["maxLength"]) in _numbers_in(text), f"{dag_id}.{key}: length limit unstated"
        checked += 1
    assert checked >= 10


def test_arns_and_names_are_validated_before_the_run_starts(dagbag) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk.exceptions import ParamValidationError

    for dag_id in EXAMPLE_DAG_IDS:
        params = dagbag.dags[dag_id].params
        role = params.get_param("role_arn")
        role.resolve("arn:aws-cn:iam::123456789012:role/service-role/Shadow+Test")
        for bad in ("arn:aws:iam::1234:role/x", "ShadowTestRole", "arn:aws:s3:::bucket/role/x"):
            with pytest.raises(ParamValidationError):
                role.resolve(bad)
        with pytest.raises(ParamValidationError):
            params.get_param("endpoint_name").resolve("churn_endpoint")


def test_a_default_run_is_short_and_says_how_long_it_takes(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id in ("example_shadow_test_promotion", "example_retrain_then_shadow_test"):
        params = dagbag.dags[dag_id].params
        experiment_seconds = params["observation_seconds"] + params["decision_window_seconds"]
        assert experiment_seconds <= 2 * 3600
        assert "75 minutes" in _description(params.get_param("observation_seconds"))
    minimal = dagbag.dags["example_shadow_test_minimal"].params
    assert minimal["duration"] == "PT2H"
    assert "two hours" in _description(minimal.get_param("duration"))


def test_the_first_section_holds_what_a_first_run_needs(dagbag) -> None:  # type: ignore[no-untyped-def]
    # Airflow 3.3 opens only the unsectioned "Run Parameters"; named sections start collapsed.
    params = dagbag.dags["example_shadow_test_promotion"].params
    open_keys = [key for key in params if not params.get_param(key).schema.get("section")]
    assert {"endpoint_name", "candidate_model", "sampling_percent", "observation_seconds"} <= set(open_keys)
    assert list(params)[: len(open_keys)] == open_keys, "the open section must come first"


def test_every_experiment_task_exposes_the_console_links(dagbag) -> None:  # type: ignore[no-untyped-def]
    seen = set()
    for dag_id in EXAMPLE_DAG_IDS:
        for task in dagbag.dags[dag_id].tasks:
            if type(task).__name__ in EXPERIMENT_TASK_TYPES:
                names = {link.name for link in task.operator_extra_links}
                assert names >= CONSOLE_LINKS, f"{dag_id}.{task.task_id} lacks {CONSOLE_LINKS - names}"
                seen.add(type(task).__name__)
    assert {
        "CreateInferenceExperimentOperator",
        "InferenceExperimentSensor",
        "EvaluateInferenceExperimentOperator",
    } <= seen
    from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
    from airflow_provider_shadowtest.operators.inference_experiment import (
        DeleteInferenceExperimentOperator,
        StartInferenceExperimentOperator,
        UpdateInferenceExperimentOperator,
    )

    for operator in (
        StartInferenceExperimentOperator,
        UpdateInferenceExperimentOperator,
        DeleteInferenceExperimentOperator,
    ):
        assert {link.name for link in operator.operator_extra_links} >= CONSOLE_LINKS
    assert "Shadow test report" in {link.name for link in EvaluateInferenceExperimentOperator.operator_extra_links}
