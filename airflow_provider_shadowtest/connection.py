"""Connection settings shared by every operator, sensor and trigger of the provider."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook


#: Connection settings are templated like the Amazon provider's (every operator and the sensor).
CONNECTION_TEMPLATE_FIELDS = ("aws_conn_id", "region_name", "verify", "botocore_config")


class AwsConnectionMixin:
    """Holds the AWS connection settings and builds the hook lazily.

    :param aws_conn_id: Airflow connection to take credentials, region and endpoint from
        (``aws_default`` unless set). ``None`` uses boto3's default credential chain.
    :param region_name: AWS region; overrides the connection's ``region_name``.
    :param verify: whether to verify TLS certificates (``False``), or the path of a CA bundle.
    :param botocore_config: extra `botocore Config <https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html>`_
        settings as a dict, e.g. ``{"retries": {"mode": "adaptive", "max_attempts": 10}}``.
    :param max_attempts: attempts per AWS call (first try included) when ``botocore_config``
        sets no retry policy; throttling, 5xx answers and dropped connections are retried.

    The hook (and so boto3) is imported only when a task runs, never while a DAG file is parsed.
    """

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None
    max_attempts: int

    def _init_connection(
        self,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        max_attempts: int = 8,
    ) -> None:
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self.max_attempts = max_attempts

    @property
    def connection_settings(self) -> dict[str, Any]:
        """The settings as plain values, for trigger serialization."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "botocore_config": self.botocore_config,
            "max_attempts": self.max_attempts,
        }

    @cached_property
    def hook(self) -> InferenceExperimentHook:
        """The hook built from these settings (imports boto3 on first use)."""
        return build_hook(self.connection_settings)


def build_hook(settings: dict[str, Any]) -> InferenceExperimentHook:
    """Build an :class:`InferenceExperimentHook` from :attr:`AwsConnectionMixin.connection_settings`."""
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

    return InferenceExperimentHook(
        aws_conn_id=settings.get("aws_conn_id", "aws_default"),
        region_name=settings.get("region_name"),
        verify=settings.get("verify"),
        config=settings.get("botocore_config"),
        max_attempts=int(settings.get("max_attempts", 8)),
    )
