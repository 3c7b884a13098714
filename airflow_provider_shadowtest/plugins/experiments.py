"""Read the inference experiments from SageMaker through the provider's hook, for the page."""

from __future__ import annotations

import dataclasses
from typing import Any, Final

#: Describe at most this many experiments (newest first) per page view.
MAX_DESCRIBED: Final = 50
DEFAULT_CONN_ID: Final = "aws_default"
#: A page must answer even when AWS does not: short timeouts, one retry.
CLIENT_CONFIG: Final = {
    "connect_timeout": 5,
    "read_timeout": 15,
    "retries": {"mode": "standard", "total_max_attempts": 2},
}


def page_conn_id() -> str:
    """The AWS connection of the page: ``[shadowtest] aws_conn_id`` (``AIRFLOW__SHADOWTEST__AWS_CONN_ID``)."""
    from airflow.configuration import conf

    return str(conf.get("shadowtest", "aws_conn_id", fallback=DEFAULT_CONN_ID) or DEFAULT_CONN_ID)


@dataclasses.dataclass(frozen=True)
class ExperimentListing:
    """What SageMaker said: the experiments (Describe answers), or why it could not be asked."""

    experiments: list[dict[str, Any]]
    error: str | None = None


def error_text(err: Exception) -> str:
    """The AWS error code and message of ``err`` (or its type and text)."""
    response = getattr(err, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return f"{type(err).__name__}: {err}"


def list_experiments(conn_id: str, limit: int = MAX_DESCRIBED) -> ExperimentListing:
    """List and describe the newest ``limit`` experiments; on any failure say why instead of raising."""
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

    try:
        hook = InferenceExperimentHook(aws_conn_id=conn_id, config=dict(CLIENT_CONFIG))
        summaries = hook.list_inference_experiments(SortBy="CreationTime", SortOrder="Descending")
    except Exception as err:  # The page stays up whatever AWS or the connection does.
        return ExperimentListing(
            [], f"Could not list inference experiments with connection {conn_id!r}: {error_text(err)}"
        )
    described = []
    for summary in summaries[:limit]:
        try:
            described.append(hook.describe_inference_experiment(str(summary["Name"])))
        except Exception:  # Deleted between List and Describe, throttled: show the summary.
            described.append(dict(summary))
    return ExperimentListing(described)


def describe_experiment(conn_id: str, name: str) -> tuple[dict[str, Any] | None, str | None]:
    """Describe one experiment; return ``(answer, None)`` or ``(None, why not)``."""
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

    try:
        return InferenceExperimentHook(aws_conn_id=conn_id, config=dict(CLIENT_CONFIG)).describe_inference_experiment(
            name
        ), None
    except Exception as err:
        return None, f"Could not describe {name!r} with connection {conn_id!r}: {error_text(err)}"
