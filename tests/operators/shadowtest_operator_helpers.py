"""Shared values of the operator tests: names, a minimal task instance, shadow-test arguments."""

from __future__ import annotations

from typing import Any

ENDPOINT = "fraud-endpoint"
PRODUCTION_MODEL = "fraud-v1"
CANDIDATE_MODEL = "fraud-v2"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerShadowTest"


class FakeTaskInstance:
    """Just enough of a task instance for execute(): XCom push and pull of its own keys."""

    task_id = "task"
    map_index = -1

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get(key)


def variants(sampling: int = 50) -> dict[str, Any]:
    """The request arguments of a shadow test on ENDPOINT: production vs the candidate model."""

    def variant(model: str, name: str) -> dict[str, Any]:
        return {
            "ModelName": model,
            "VariantName": name,
            "InfrastructureConfig": {
                "InfrastructureType": "RealTimeInference",
                "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
            },
        }

    return {
        "model_variants": [variant(PRODUCTION_MODEL, "production"), variant(CANDIDATE_MODEL, "shadow")],
        "shadow_mode_config": {
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": sampling}],
        },
    }
