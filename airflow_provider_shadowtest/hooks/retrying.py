"""The AWS hook base of this provider: ``AwsBaseHook`` with a retry budget set per hook."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.config import Config

from airflow_provider_shadowtest.connection import DEFAULT_MAX_ATTEMPTS


class RetryingAwsHook(AwsBaseHook):
    """``AwsBaseHook`` whose clients retry with botocore's ``standard`` mode, ``max_attempts`` calls at most.

    The connection's or the caller's botocore config wins when it already has a ``retries``
    policy. Throttling, 5xx answers and dropped connections are retried with exponential backoff.

    :param max_attempts: attempts per API call, the first included.
    Other arguments are those of :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook`
    (``aws_conn_id``, ``region_name``, ``verify``, ``config``, ``client_type``).
    """

    def __init__(self, *args: Any, max_attempts: int = DEFAULT_MAX_ATTEMPTS, **kwargs: Any) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts: must be at least 1, got {max_attempts}")
        self.max_attempts = max_attempts
        super().__init__(*args, **kwargs)

    def _get_config(self, config: Config | None = None) -> Config:
        merged = super()._get_config(config)
        if getattr(merged, "retries", None):
            return merged
        return merged.merge(Config(retries={"mode": "standard", "total_max_attempts": self.max_attempts}))
