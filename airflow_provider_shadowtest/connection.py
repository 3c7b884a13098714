"""The AWS connection settings of every operator, sensor, trigger and hook, declared once.

:class:`ConnectionSettings` is the value (frozen, JSON-serializable for triggers);
:class:`AwsConnectionMixin` gives a task the same settings as templated keyword arguments
and builds the hook from them when the task runs.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest._compat import BaseOperatorMeta

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

#: Attempts per AWS call (first try included) when the botocore config sets no retry policy.
DEFAULT_MAX_ATTEMPTS = 8


@dataclasses.dataclass(frozen=True)
class ConnectionSettings:
    """How to reach AWS: the settings every operator, sensor and trigger of the provider takes.

    :param aws_conn_id: Airflow connection to take credentials, region and endpoint from
        (``aws_default`` unless set). ``None`` uses boto3's default credential chain.
    :param region_name: AWS region; overrides the connection's ``region_name``.
    :param verify: whether to verify TLS certificates (``False``), or the path of a CA bundle.
    :param botocore_config: extra `botocore Config <https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html>`_
        settings as a dict, e.g. ``{"retries": {"mode": "adaptive", "max_attempts": 10}}``.
    :param max_attempts: attempts per AWS call (first try included) when ``botocore_config``
        sets no retry policy; throttling, 5xx answers and dropped connections are retried.
    """

    aws_conn_id: str | None = "aws_default"
    region_name: str | None = None
    verify: bool | str | None = None
    botocore_config: dict[str, Any] | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    @classmethod
    def from_value(cls, value: ConnectionSettings | Mapping[str, Any] | None) -> ConnectionSettings:
        """Return ``value`` as settings: itself, its :meth:`to_dict` form (a trigger's kwargs), or defaults."""
        if isinstance(value, ConnectionSettings):
            return value
        return cls(**dict(value or {}))

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (trigger serialization)."""
        return dataclasses.asdict(self)

    def key(self) -> str:
        """A hashable, order-independent key (``botocore_config`` is a dict)."""
        return json.dumps(self.to_dict(), sort_keys=True, default=repr)

    def build_hook(self) -> InferenceExperimentHook:
        """Build the hook from these settings (imports boto3)."""
        from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

        return InferenceExperimentHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
            max_attempts=self.max_attempts,
        )


#: The settings templated like the Amazon provider's, on every operator and the sensor.
CONNECTION_TEMPLATE_FIELDS = ("aws_conn_id", "region_name", "verify", "botocore_config")
_DEFAULT = ConnectionSettings()


class AwsConnectionMixin(metaclass=BaseOperatorMeta):
    """Take the :class:`ConnectionSettings` as keyword arguments; build the hook when the task runs.

    Cooperative: list it before the Airflow base class (``class X(AwsConnectionMixin,
    BaseOperator)``). Its keyword arguments, documented on :class:`ConnectionSettings`, are
    filled from ``default_args`` and accepted by ``partial()``/``expand()`` like any operator
    argument. The hook (and so boto3) is imported only when a task runs, never while a DAG file
    is parsed.
    """

    def __init__(
        self,
        *,
        aws_conn_id: str | None = _DEFAULT.aws_conn_id,
        region_name: str | None = _DEFAULT.region_name,
        verify: bool | str | None = _DEFAULT.verify,
        botocore_config: dict[str, Any] | None = _DEFAULT.botocore_config,
        max_attempts: int = _DEFAULT.max_attempts,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self.max_attempts = max_attempts

    @property
    def connection(self) -> ConnectionSettings:
        """The settings as rendered (templates applied when the task runs)."""
        return ConnectionSettings(
            **{field.name: getattr(self, field.name) for field in dataclasses.fields(ConnectionSettings)}
        )

    @cached_property
    def hook(self) -> InferenceExperimentHook:
        """The hook built from :attr:`connection` (imports boto3 on first use)."""
        return self.connection.build_hook()
