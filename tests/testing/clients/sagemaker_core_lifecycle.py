"""A shadow-test lifecycle through sagemaker-core's resources, written from the AWS docs.

Runs in the clients' own venv (see ``client_venv.py``), never imports this project. The emulator
is reached through ``AWS_ENDPOINT_URL_SAGEMAKER``, the way any boto3-based tool is pointed at
another endpoint. Exits non-zero with a message on the first disagreement.

Usage: python sagemaker_core_lifecycle.py
"""

from __future__ import annotations

import sys
import time

from botocore.exceptions import ClientError
from sagemaker.core import shapes  # type: ignore[import-not-found,unused-ignore]
from sagemaker.core.resources import (  # type: ignore[import-not-found,unused-ignore]
    Endpoint,
    EndpointConfig,
    InferenceExperiment,
    Model,
    Tag,
)

ROLE = "arn:aws:iam::123456789012:role/shadow-test-role"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:latest"
REGION = "us-east-1"
EP = "core-endpoint"
EXP = "core-shadow-test"


def check(condition: bool, what: str) -> None:
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def wait(experiment: InferenceExperiment, status: str) -> None:
    """Poll like wait_for_status, but sub-second (its poll is whole seconds)."""
    for _ in range(240):
        experiment.refresh()
        if experiment.status == status:
            return
        time.sleep(0.25)
    check(False, f"experiment never reached {status} (last: {experiment.status})")


def variant(model: str, name: str) -> shapes.ModelVariantConfig:
    return shapes.ModelVariantConfig(
        model_name=model,
        variant_name=name,
        infrastructure_config=shapes.ModelInfrastructureConfig(
            infrastructure_type="RealTimeInference",
            real_time_inference_config=shapes.RealTimeInferenceConfig(instance_type="ml.m5.xlarge", instance_count=1),
        ),
    )


def shadow_mode(percent: int) -> shapes.ShadowModeConfig:
    return shapes.ShadowModeConfig(
        source_model_variant_name="AllTraffic",
        shadow_model_variants=[
            shapes.ShadowModelVariantConfig(shadow_model_variant_name="candidate", sampling_percentage=percent)
        ],
    )


def main() -> None:
    # 1. models, endpoint config, endpoint (the create calls describe the new resource: a
    #    response that does not fit sagemaker-core's shapes raises here)
    for name in ("core-prod-model", "core-candidate-model"):
        model = Model.create(
            model_name=name,
            primary_container=shapes.ContainerDefinition(image=IMAGE),
            execution_role_arn=ROLE,
            region=REGION,
        )
        check(model.model_name == name, f"model {name}")
    EndpointConfig.create(
        endpoint_config_name="core-config",
        production_variants=[
            shapes.ProductionVariant(
                variant_name="AllTraffic",
                model_name="core-prod-model",
                instance_type="ml.m5.xlarge",
                initial_instance_count=1,
                initial_variant_weight=1.0,
            )
        ],
        region=REGION,
    )
    endpoint = Endpoint.create(endpoint_name=EP, endpoint_config_name="core-config", region=REGION)
    endpoint.wait_for_status("InService", poll=1, timeout=60)

    # 2. the shadow test
    experiment = InferenceExperiment.create(
        name=EXP,
        type="ShadowMode",
        role_arn=ROLE,
        endpoint_name=EP,
        model_variants=[variant("core-prod-model", "AllTraffic"), variant("core-candidate-model", "candidate")],
        shadow_mode_config=shadow_mode(50),
        tags=[shapes.Tag(key="team", value="ml")],
        region=REGION,
    )
    check(experiment.arn.endswith(f":inference-experiment/{EXP}"), f"ARN {experiment.arn}")
    wait(experiment, "Running")
    names = [e.name for e in InferenceExperiment.get_all(name_contains="core-shadow", region=REGION)]
    check(names == [EXP], f"list: {names}")
    endpoint.refresh()
    check([v.variant_name for v in endpoint.shadow_production_variants] == ["candidate"], "shadow on the endpoint")

    # 3. sampling to 100 %
    experiment.update(shadow_mode_config=shadow_mode(100))
    wait(experiment, "Running")
    check(experiment.shadow_mode_config.shadow_model_variants[0].sampling_percentage == 100, "sampling")

    # 4. tags on the experiment's ARN
    check({t.key: t.value for t in Tag.get_all(resource_arn=experiment.arn, region=REGION)} == {"team": "ml"}, "tags")
    Tag.add_tags(resource_arn=experiment.arn, tags=[shapes.Tag(key="stage", value="shadow")], region=REGION)
    Tag.delete_tags(resource_arn=experiment.arn, tag_keys=["team"], region=REGION)
    keys = [t.key for t in Tag.get_all(resource_arn=experiment.arn, region=REGION)]
    check(keys == ["stage"], f"tags after add and delete: {keys}")

    # 5. stop and promote ("Promote a shadow variant")
    # InferenceExperiment.stop() sends self.model_variant_actions, desired_model_variants,
    # desired_state and reason, which sagemaker-core 2.27.0 does not declare as fields (pydantic
    # refuses to assign them): set them past the validation, then call the resource's stop().
    stop_arguments = {
        "model_variant_actions": {"candidate": "Promote", "AllTraffic": "Remove"},
        "desired_model_variants": None,
        "desired_state": "Completed",
        "reason": "candidate wins",
    }
    for key, value in stop_arguments.items():
        object.__setattr__(experiment, key, value)
    experiment.stop()
    wait(experiment, "Completed")
    statuses = {v.variant_name: v.status for v in experiment.model_variants}
    check(statuses == {"AllTraffic": "Deleted", "candidate": "InService"}, f"variant statuses {statuses}")
    check(experiment.status_reason == "candidate wins", "reason")
    endpoint.wait_for_status("InService", poll=1, timeout=60)
    config = EndpointConfig.get(endpoint_config_name=endpoint.endpoint_config_name, region=REGION)
    production = [(v.variant_name, v.model_name) for v in config.production_variants]
    check(production == [("candidate", "core-candidate-model")], f"production after promotion: {production}")

    # 6. delete: the metadata goes, the endpoint stays
    experiment.delete()
    try:
        InferenceExperiment.get(name=EXP, region=REGION)
    except ClientError as err:
        check(err.response["Error"]["Code"] == "ResourceNotFound", f"describe after delete: {err}")
    else:
        check(False, "describe after delete succeeded")
    check(Endpoint.get(endpoint_name=EP, region=REGION).endpoint_status == "InService", "endpoint after delete")
    print("SAGEMAKER-CORE LIFECYCLE OK")


if __name__ == "__main__":
    main()
