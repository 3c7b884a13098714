"""The service-model checker behind the emulator's gate, on botocore's real shapes (no server)."""

from __future__ import annotations

import botocore.session

from airflow_provider_shadowtest.testing.model_checks import SERIALIZATION, VALIDATION, check_request, describe

_SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")


def _shape(operation: str) -> object:
    return _SAGEMAKER.operation_model(operation).input_shape


def test_every_violation_is_listed_with_its_path() -> None:
    problems = check_request(
        _shape("ListInferenceExperiments"),
        {"MaxResults": 0, "SortBy": "Size", "NameContains": "a" * 64, "Type": "ShadowMode"},
    )
    assert {p.kind for p in problems} == {VALIDATION}
    assert sorted(p.path for p in problems) == ["MaxResults", "NameContains", "SortBy"]
    message = describe(problems)
    assert message.startswith("3 validation errors detected: ")
    assert (
        "Value '0' at 'MaxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        in message
    )


def test_wrong_types_stop_at_their_member() -> None:
    problems = check_request(
        _shape("StopInferenceExperiment"),
        {"Name": "exp", "ModelVariantActions": {"shadow": 5}, "DesiredModelVariants": "all"},
    )
    assert [(p.kind, p.path) for p in problems] == [
        (SERIALIZATION, "ModelVariantActions.shadow"),
        (SERIALIZATION, "DesiredModelVariants"),
    ]


def test_nested_lists_use_the_aws_member_notation() -> None:
    body = {
        "Name": "exp",
        "ShadowModeConfig": {
            "SourceModelVariantName": "prod",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 101}],
        },
    }
    [problem] = check_request(_shape("UpdateInferenceExperiment"), body)
    assert problem.path == "ShadowModeConfig.ShadowModelVariants.1.member.SamplingPercentage"


def test_a_long_list_of_problems_is_cut_but_counted() -> None:
    body = {"ModelName": "m", "Tags": [{"Key": "k" * 200, "Value": "v"}] * 30}
    problems = check_request(_shape("CreateModel"), body)
    message = describe(problems)
    assert message.startswith(f"{len(problems)} validation errors detected")
    assert message.endswith(f"and {len(problems) - 20} more")


def test_valid_requests_have_no_problems() -> None:
    assert check_request(_shape("DescribeInferenceExperiment"), {"Name": "exp", "Unknown": [1]}) == []
    assert check_request(_shape("ListInferenceExperiments"), {"CreationTimeAfter": "2030-01-01T00:00:00Z"}) == []
