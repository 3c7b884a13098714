"""Retrain, register the new model, shadow-test it against production, promote it if it is as good.

The training step is simulated: it reads the model the endpoint serves now (after a previous run's
promotion, that run's candidate) and registers a new SageMaker Model that reuses its container with
a new artifact. The shadow test then reads the endpoint's production variant itself (short form), so
the pipeline can run on a schedule: each run shadow-tests against the previous winner. On the
offline emulator, its ``simulated_quality`` form field sets the new model's traffic profile (through
``shadowtest:*`` model tags), so the pipeline can be watched promoting a better model or rejecting a
worse one.

Requires Airflow 3.1 or later: the optional human approval step is the standard provider's
``ApprovalOperator`` (human-in-the-loop, Airflow 3.1+). ``example_shadow_test_minimal`` runs on 2.11+.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task
from shadow_test_pipeline import shadow_test_params, shadow_test_tasks

#: Emulator traffic profiles a simulated training run can produce (ignored by real SageMaker). The
#: latency is relative to the model the endpoint serves now, so a scheduled run's "better" model is
#: better than the previous winner, not equal to it.
SIMULATED_PROFILES: dict[str, dict[str, str | float]] = {
    "better": {"latency_factor": 0.75, "shadowtest:4xx-rate": "0.5%", "shadowtest:error-rate": "0.2%"},
    "worse": {"latency_factor": 1.5, "shadowtest:4xx-rate": "0.5%", "shadowtest:error-rate": "5%"},
}
#: The emulator's median model latency when a model has no ``shadowtest:latency-ms`` tag.
_DEFAULT_LATENCY_MS = 40.0


def _simulated_tags(quality: str, production_tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """Emulator tags of the new model: production's request rate, and the quality relative to production."""
    by_key = {t["Key"]: t["Value"] for t in production_tags}
    tags = [{"Key": "shadowtest:rps", "Value": by_key["shadowtest:rps"]}] if "shadowtest:rps" in by_key else []
    profile = dict(SIMULATED_PROFILES.get(quality, {}))
    factor = profile.pop("latency_factor", None)
    if isinstance(factor, float):
        production_ms = float(by_key.get("shadowtest:latency-ms", _DEFAULT_LATENCY_MS))
        tags.append({"Key": "shadowtest:latency-ms", "Value": f"{production_ms * factor:.2f}"})
    return tags + [{"Key": k, "Value": str(v)} for k, v in profile.items()]


@task(task_id="train_and_register")
def train_and_register(endpoint_name: str, run_key: str, quality: str, aws_conn_id: str = "aws_default") -> str:
    """Pretend to train; register the result as a new SageMaker Model and return its name."""
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

    hook = InferenceExperimentHook(aws_conn_id=aws_conn_id)
    client: Any = hook.client
    [production_model, *_] = hook.endpoint_production_models(endpoint_name)
    production = client.describe_model(ModelName=production_model)
    family = production_model.split("-retrained-")[0][:40]
    name = f"{family}-retrained-{run_key}"[:63]
    container = dict(production["PrimaryContainer"])
    container["ModelDataUrl"] = f"s3://models/{family}/{run_key}/model.tar.gz"
    tags = [{"Key": "trained-by", "Value": "example_retrain_then_shadow_test"}]
    # Emulator only: the request rate belongs to the endpoint's traffic, so it carries over.
    tags += _simulated_tags(quality, client.list_tags(ResourceArn=production["ModelArn"])["Tags"])
    client.create_model(
        ModelName=name,
        PrimaryContainer=container,
        ExecutionRoleArn=production["ExecutionRoleArn"],
        Tags=tags,
    )
    return name


with DAG(
    dag_id="example_retrain_then_shadow_test",
    description="Retrain a model, shadow-test it against production, promote it if it is as good",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        **shadow_test_params(include_candidate=False),
        "simulated_quality": Param(
            "better",
            enum=["better", "worse"],
            values_display={"better": "Better than production", "worse": "Worse than production"},
            title="Simulated training outcome",
            description_md=(
                "Emulator only (real SageMaker ignores it): how the retrained model behaves under mirrored "
                "traffic. `better` (default): faster and error-free, so the verdict is PROMOTE; `worse`: "
                "twice as slow with 5 % errors, so the verdict is REJECT and production stays."
            ),
            section="Training",
        ),
    },
    tags=["sagemaker", "shadow-test", "example"],
    doc_md=__doc__,
):
    candidate = train_and_register(
        "{{ params.endpoint_name }}",
        "{{ dag_run.run_after.strftime('%Y%m%d%H%M%S') }}",
        "{{ params.simulated_quality }}",
    )
    tasks = shadow_test_tasks("{{ ti.xcom_pull(task_ids='train_and_register') }}", experiment_prefix="retrain")
    candidate >> tasks["create"]
