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

#: Emulator traffic profiles a simulated training run can produce (ignored by real SageMaker).
SIMULATED_PROFILES = {
    "better": {"shadowtest:latency-ms": "30", "shadowtest:4xx-rate": "0.5%", "shadowtest:error-rate": "0.2%"},
    "worse": {"shadowtest:latency-ms": "60", "shadowtest:4xx-rate": "0.5%", "shadowtest:error-rate": "5%"},
}


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
    tags += [t for t in client.list_tags(ResourceArn=production["ModelArn"])["Tags"] if t["Key"] == "shadowtest:rps"]
    tags += [{"Key": k, "Value": v} for k, v in SIMULATED_PROFILES.get(quality, {}).items()]
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
