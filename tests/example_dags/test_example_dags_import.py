"""Every example DAG parses without errors, with the Params form users see in the UI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from airflow.sdk.exceptions import ParamValidationError

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
EXPECTED = {"example_shadow_test_promotion", "example_retrain_then_shadow_test", "example_shadow_test_minimal"}


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import BundleDagBag

    # A bundle puts its folder on sys.path, as the dag-processor does for the DAGs folder.
    return BundleDagBag(dag_folder=EXAMPLES, bundle_path=EXAMPLES)


def test_every_example_dag_imports_without_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


@pytest.mark.parametrize("dag_id", ["example_shadow_test_promotion", "example_retrain_then_shadow_test"])
def test_promotion_form_has_titled_bounded_params(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    params = dagbag.dags[dag_id].params
    for key in ("endpoint_name", "shadow_instance_type", "sampling_percent", "observation_seconds", "require_approval"):
        param = params.get_param(key)
        assert param.schema.get("title"), key
    sampling = params.get_param("sampling_percent").schema
    assert (sampling["minimum"], sampling["maximum"]) == (1, 100)
    with pytest.raises(ParamValidationError, match=r"^101 is greater than the maximum of 100"):
        params.get_param("sampling_percent").resolve(101)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_examples_use_the_short_form_with_no_variant_names(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags[dag_id]
    create = dag.get_task("create_experiment")
    assert create.model_variants is None
    assert create.shadow_mode_config is None
    assert create.shadow_model_name
    assert create.shadow_variant_name is None  # derived from the experiment's name
    assert not {"production_variant", "production_model"} & set(dag.params.keys())


def test_promotion_dag_branches_to_promote_or_keep_production(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["example_shadow_test_promotion"]
    evaluate = dag.get_task("evaluate")
    assert evaluate.downstream_task_ids == {"approval_gate", "keep_production"}
    assert dag.get_task("approval_gate").downstream_task_ids == {"approve", "promote"}
    assert dag.get_task("announce_promotion").upstream_task_ids == {"promote", "promote_approved"}


def test_parsing_an_example_dag_loads_no_aws_sdk() -> None:
    dag_file = EXAMPLES / "example_shadow_test_promotion.py"
    code = (
        f"import sys, runpy; sys.path.insert(0, {str(EXAMPLES)!r}); runpy.run_path({str(dag_file)!r}); "
        "print(sorted(m for m in ('boto3', 'botocore', 'aiobotocore', 'moto') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"
