"""OpenLineage facets: pure naming of Describe results, and the mixin on the emulator.

The whole chain (listener, file transport, ``airflow dags test``) is in ``test_lineage_dag_run.py``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from airflow_provider_shadowtest.lineage import (
    DatasetId,
    LineageSubject,
    dataset_from_arn,
    dataset_from_uri,
    endpoint_config_models,
    experiment_models,
    model_artifact_uris,
    model_datasets,
    subject_of,
)
from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    StopInferenceExperimentOperator,
)
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests
from airflow_provider_shadowtest.testing.resources import shadow_test_request

if TYPE_CHECKING:
    from collections.abc import Iterator

#: The mixin reports through the OpenLineage provider (the ``dev`` extra installs it).
needs_openlineage = pytest.mark.skipif(
    importlib.util.find_spec("airflow.providers.openlineage") is None,
    reason="apache-airflow-providers-openlineage is not installed",
)
PROD_URI = "s3://ml-artifacts/churn/v1/model.tar.gz"
CAND_URI = "s3://ml-artifacts/churn/v2/model.tar.gz"
PROD_IN = DatasetId("s3://ml-artifacts", "churn/v1/model.tar.gz")
CAND_IN = DatasetId("s3://ml-artifacts", "churn/v2/model.tar.gz")
ENDPOINT_OUT = DatasetId("arn:aws:sagemaker:us-east-1:123456789012", "endpoint/churn-endpoint")


# -- pure ------------------------------------------------------------------------------------------
def test_uri_is_named_like_the_amazon_provider_names_s3_paths() -> None:
    assert dataset_from_uri(PROD_URI) == PROD_IN
    assert dataset_from_uri("s3://bucket") == DatasetId("s3://bucket", "/")
    assert dataset_from_uri("https://bucket.s3.amazonaws.com/m/model.tar.gz") == DatasetId(
        "https://bucket.s3.amazonaws.com", "m/model.tar.gz"
    )
    with pytest.raises(ValueError, match=r"artifact URI 'model\.tar\.gz'"):
        dataset_from_uri("model.tar.gz")


def test_arn_splits_at_the_account() -> None:
    assert dataset_from_arn("arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-endpoint") == ENDPOINT_OUT
    assert dataset_from_arn("arn:aws-cn:sagemaker:cn-north-1:1:model/m") == DatasetId(
        "arn:aws-cn:sagemaker:cn-north-1:1", "model/m"
    )
    with pytest.raises(ValueError, match="ARN 'endpoint/x'"):
        dataset_from_arn("endpoint/x")


def test_artifacts_of_primary_container_and_of_every_container_without_duplicates() -> None:
    assert model_artifact_uris({"PrimaryContainer": {"Image": "i", "ModelDataUrl": PROD_URI}}) == [PROD_URI]
    pipeline = {
        "Containers": [
            {"Image": "pre", "ModelDataUrl": "s3://a/pre.tar.gz"},
            {
                "Image": "model",
                "ModelDataSource": {"S3DataSource": {"S3Uri": "s3://a/model/", "S3DataType": "S3Prefix"}},
            },
            {"Image": "post", "ModelDataUrl": "s3://a/pre.tar.gz"},
            {"Image": "no-artifact"},
        ]
    }
    assert model_artifact_uris(pipeline) == ["s3://a/pre.tar.gz", "s3://a/model/"]
    assert model_artifact_uris({"PrimaryContainer": {"Image": "baked-in"}}) == []


def test_a_model_without_artifacts_is_named_by_its_arn() -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model/baked"
    assert model_datasets({"ModelArn": arn, "PrimaryContainer": {"Image": "i"}}) == [
        DatasetId("arn:aws:sagemaker:us-east-1:123456789012", "model/baked")
    ]
    assert model_datasets({"ModelArn": arn, "PrimaryContainer": {"ModelDataUrl": CAND_URI}}) == [CAND_IN]


def test_experiment_models_put_production_first_whatever_the_listing_order() -> None:
    described = {
        "ModelVariants": [
            {"ModelName": "cand", "VariantName": "shadow"},
            {"ModelName": "prod", "VariantName": "AllTraffic"},
        ],
        "ShadowModeConfig": {
            "SourceModelVariantName": "AllTraffic",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 50}],
        },
    }
    assert experiment_models(described) == ["prod", "cand"]


def test_endpoint_config_models_follow_the_named_variants_shadows_included() -> None:
    config = {
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "prod"}],
        "ShadowProductionVariants": [{"VariantName": "shadow", "ModelName": "cand"}],
    }
    assert endpoint_config_models(config, ["AllTraffic", "shadow"]) == ["prod", "cand"]
    assert endpoint_config_models(config, ["shadow"]) == ["cand"]
    assert endpoint_config_models(config, []) == ["prod", "cand"]


def test_subject_comes_from_each_operators_own_arguments() -> None:
    create = CreateInferenceExperimentOperator(
        task_id="c", name="exp", endpoint_name="ep", role_arn="r", model_variants=[], shadow_mode_config={}
    )
    stop = StopInferenceExperimentOperator(task_id="s", experiment_name="exp")
    by_endpoint = EvaluateInferenceExperimentOperator(
        task_id="e", endpoint_name="ep", production_variant_name="AllTraffic", shadow_variant_name="shadow"
    )
    assert subject_of(create) == LineageSubject("exp", "ep")
    assert subject_of(stop) == LineageSubject("exp")
    assert subject_of(by_endpoint) == LineageSubject(None, "ep", ("AllTraffic", "shadow"))
    with pytest.raises(ValueError, match="neither an inference experiment nor an endpoint"):
        subject_of(EvaluateInferenceExperimentOperator(task_id="e"))


# -- the mixin on the emulator ------------------------------------------------------------------
@pytest.fixture
def shadow_test() -> Iterator[Any]:
    """An endpoint serving a production model with artifacts, and a shadow test of a candidate."""
    with mock_shadow_tests(transition_seconds=0.1) as handle:
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        create_model(sagemaker, "churn-v1", model_data_url=PROD_URI)
        create_model(sagemaker, "churn-v2", model_data_url=CAND_URI)
        create_endpoint(sagemaker, "churn-endpoint", "churn-v1")
        sagemaker.create_inference_experiment(**shadow_test_request("exp", "churn-endpoint", "churn-v1", "churn-v2"))
        yield handle


def pairs(datasets: list[Any]) -> list[DatasetId]:
    return [DatasetId(d.namespace, d.name) for d in datasets]


@needs_openlineage
@pytest.mark.parametrize(
    "operator",
    [
        StopInferenceExperimentOperator(task_id="stop", experiment_name="exp", aws_conn_id=None),
        EvaluateInferenceExperimentOperator(task_id="evaluate", experiment_name="exp", aws_conn_id=None),
        EvaluateInferenceExperimentOperator(
            task_id="evaluate",
            endpoint_name="churn-endpoint",
            production_variant_name="AllTraffic",
            aws_conn_id=None,
        ),
    ],
    ids=["stop", "evaluate", "evaluate-endpoint-only"],
)
def test_facets_name_the_models_artifacts_in_and_the_endpoint_out(shadow_test: Any, operator: Any) -> None:
    lineage = operator.get_openlineage_facets_on_complete(task_instance=None)

    expected_in = [PROD_IN, CAND_IN] if operator.experiment_name else [PROD_IN]
    assert (pairs(lineage.inputs), pairs(lineage.outputs)) == (expected_in, [ENDPOINT_OUT])


@needs_openlineage
def test_a_failure_logs_a_warning_and_reports_empty_lineage(shadow_test: Any, capsys: Any) -> None:
    operator = StopInferenceExperimentOperator(task_id="stop", experiment_name="no-such-exp", aws_conn_id=None)

    lineage = operator.get_openlineage_facets_on_complete(task_instance=None)

    assert lineage is not None
    assert (lineage.inputs, lineage.outputs) == ([], [])
    logged = "".join(capsys.readouterr())
    assert "No OpenLineage facets for task 'stop'" in logged
    assert "ResourceNotFound during DescribeInferenceExperiment" in logged


def test_without_the_openlineage_provider_nothing_is_reported_and_no_aws_call_made(
    shadow_test: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import` raise ImportError, as when the package is not installed.
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", None)
    operator = StopInferenceExperimentOperator(task_id="stop", experiment_name="exp", aws_conn_id=None)

    assert operator.get_openlineage_facets_on_complete(task_instance=None) is None
    assert "hook" not in operator.__dict__  # the hook (boto3) was never built


def test_dag_facing_modules_do_not_import_openlineage() -> None:
    # Baseline after Airflow itself, which reads every installed provider's info at import.
    code = (
        "import json, sys\n"
        "import airflow_provider_shadowtest._compat\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_shadowtest.operators.inference_experiment\n"
        "import airflow_provider_shadowtest.operators.evaluate\n"
        "print(json.dumps(sorted(m for m in set(sys.modules) - before if 'openlineage' in m)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
