"""Hook for SageMaker inference experiments (shadow tests) and their CloudWatch metrics."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from airflow_provider_shadowtest.connection import DEFAULT_MAX_ATTEMPTS
from airflow_provider_shadowtest.exceptions import ExperimentNotFound, InferenceExperimentApiError
from airflow_provider_shadowtest.hooks.metric_series import metric_data_results
from airflow_provider_shadowtest.hooks.metrics_query import (
    DEFAULT_PERCENTILES,
    MetricWindow,
    build_queries,
    check_percentiles,
    summarize_results,
)
from airflow_provider_shadowtest.hooks.retrying import RetryingAwsHook

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

    from mypy_boto3_sagemaker import SageMakerClient

    from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription

log = logging.getLogger(__name__)


def _words(operation: str) -> list[str]:
    """``DescribeEndpointConfig`` -> ``["describe", "endpoint", "config"]`` (boto3's method name)."""
    import re

    return [w.lower() for w in re.findall(r"[A-Z][a-z]*", operation)]


class InferenceExperimentHook(RetryingAwsHook):
    """Create, describe, update, start, stop, delete and list SageMaker inference experiments.

    Throttling, 5xx answers and dropped connections are retried by botocore's ``standard``
    retry mode with exponential backoff; ``max_attempts`` sets the budget unless the
    connection's or the caller's botocore config already has a ``retries`` policy.
    Every ``ClientError`` is raised as
    :class:`~airflow_provider_shadowtest.exceptions.InferenceExperimentApiError` (or a subclass)
    carrying the AWS error code, message and operation.

    :param max_attempts: attempts per API call, the first included.
    Other arguments are those of
    :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook` (``aws_conn_id``,
    ``region_name``, ``verify``, ``config``).
    """

    def __init__(self, *args: Any, max_attempts: int = DEFAULT_MAX_ATTEMPTS, **kwargs: Any) -> None:
        kwargs["client_type"] = "sagemaker"
        super().__init__(*args, max_attempts=max_attempts, **kwargs)

    # -- connection -------------------------------------------------------------------------

    def get_cloudwatch_client(self) -> Any:
        """Return a CloudWatch client built from the same connection, region, verify and config."""
        session = self.get_session(region_name=self.region_name)
        return session.client(
            service_name="cloudwatch",
            endpoint_url=self.conn_config.get_service_endpoint_url(service_name="cloudwatch"),
            config=self._get_config(),
            verify=self.verify,
        )

    def async_client_arguments(self) -> tuple[Any, dict[str, Any]]:
        """Return an aiobotocore session and the arguments of its SageMaker client.

        Built from the same connection, region, verify and botocore config (retry policy
        included) as the sync client, as ``AwsGenericHook.get_client_type`` builds it. Blocking
        (it reads the Airflow connection): call it in a thread from async code.
        """
        session = self.get_session(region_name=self.region_name, deferrable=True)
        client_kwargs = {
            "endpoint_url": self.conn_config.get_service_endpoint_url(service_name="sagemaker"),
            "config": self._get_config(),
            "verify": self.verify,
        }
        return session, client_kwargs

    @property
    def client(self) -> SageMakerClient:
        """The cached SageMaker client, typed."""
        return cast("SageMakerClient", self.conn)

    @contextmanager
    def _api(self, operation: str) -> Iterator[None]:
        try:
            yield
        except ClientError as err:
            raise InferenceExperimentApiError.from_response(err.response, operation) from err

    # -- operations -------------------------------------------------------------------------
    def create_inference_experiment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send a CreateInferenceExperiment request (see ``build_create_request``); return the response."""
        with self._api("CreateInferenceExperiment"):
            return dict(self.client.create_inference_experiment(**request))

    def describe_inference_experiment(self, name: str) -> dict[str, Any]:
        """Return the DescribeInferenceExperiment response (datetimes as botocore parsed them)."""
        with self._api("DescribeInferenceExperiment"):
            response = dict(self.client.describe_inference_experiment(Name=name))
        response.pop("ResponseMetadata", None)
        return response

    def update_inference_experiment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send an UpdateInferenceExperiment request; return the response."""
        with self._api("UpdateInferenceExperiment"):
            return dict(self.client.update_inference_experiment(**request))

    def start_inference_experiment(self, name: str) -> dict[str, Any]:
        """Start a Created experiment now instead of at its scheduled start."""
        with self._api("StartInferenceExperiment"):
            return dict(self.client.start_inference_experiment(Name=name))

    def stop_inference_experiment(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send a StopInferenceExperiment request (Promote, Retain or Remove per variant)."""
        with self._api("StopInferenceExperiment"):
            return dict(self.client.stop_inference_experiment(**request))

    def delete_inference_experiment(self, name: str) -> dict[str, Any]:
        """Delete the experiment's metadata; the endpoint and its variants stay."""
        with self._api("DeleteInferenceExperiment"):
            return dict(self.client.delete_inference_experiment(Name=name))

    def list_inference_experiments(self, **filters: Any) -> list[dict[str, Any]]:
        """Return every experiment summary matching the ListInferenceExperiments ``filters``."""
        summaries: list[dict[str, Any]] = []
        with self._api("ListInferenceExperiments"):
            paginator = self.client.get_paginator("list_inference_experiments")
            for page in paginator.paginate(**filters):
                summaries.extend(dict(s) for s in page.get("InferenceExperiments", []))
        return summaries

    def endpoint_production_models(self, endpoint_name: str) -> list[str]:
        """Return the models the endpoint's production variants serve now (after a promotion, the candidate)."""
        with self._api("DescribeEndpoint"):
            config_name = self.client.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
        with self._api("DescribeEndpointConfig"):
            config = self.client.describe_endpoint_config(EndpointConfigName=config_name)
        return [str(v["ModelName"]) for v in config["ProductionVariants"] if v.get("ModelName")]

    def describe_endpoint_for_shadow_test(
        self, endpoint_name: str, extra_model_names: list[str] | None = None
    ) -> EndpointDescription:
        """Read what a shadow test needs to know about an endpoint (pre-flight and short form).

        DescribeEndpoint, DescribeEndpointConfig of its current config, and DescribeModel of each
        production model and of ``extra_model_names`` (the shadow models). A missing endpoint or
        model is recorded as None (SageMaker answers ValidationException "Could not find ...").
        """
        from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription

        endpoint = self._describe_or_none("DescribeEndpoint", EndpointName=endpoint_name)
        if endpoint is None:
            return EndpointDescription(name=endpoint_name, endpoint=None)
        config = self._describe_or_none("DescribeEndpointConfig", EndpointConfigName=endpoint["EndpointConfigName"])
        config = config or {}
        names = [str(v["ModelName"]) for v in config.get("ProductionVariants") or [] if v.get("ModelName")]
        names += [n for n in extra_model_names or [] if n and n not in names]
        models = {name: self._describe_or_none("DescribeModel", ModelName=name) for name in names}
        return EndpointDescription(name=endpoint_name, endpoint=endpoint, config=config, models=models)

    def _describe_or_none(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        method = getattr(self.client, "_".join(_words(operation)))
        try:
            with self._api(operation):
                response = dict(method(**kwargs))
        except InferenceExperimentApiError as err:
            # SageMaker answers a missing endpoint, config or model with ValidationException.
            if err.code in ("ValidationException", "ResourceNotFound") and "could not find" in err.message.lower():
                return None
            raise
        response.pop("ResponseMetadata", None)
        return response

    def active_inference_experiments(self) -> list[dict[str, Any]]:
        """Describe every experiment not yet Completed or Cancelled (ListInferenceExperiments per status)."""
        from airflow_provider_shadowtest.experiment.preflight import ACTIVE_STATUSES

        described = []
        for status in ACTIVE_STATUSES:
            for summary in self.list_inference_experiments(StatusEquals=status):
                try:
                    described.append(self.describe_inference_experiment(str(summary["Name"])))
                except ExperimentNotFound:
                    continue  # deleted meanwhile
        return described

    # -- metrics ----------------------------------------------------------------------------
    def get_variant_metrics(
        self,
        endpoint_name: str,
        variant_names: list[str],
        start: dt.datetime,
        end: dt.datetime,
        percentiles: tuple[str, ...] = DEFAULT_PERCENTILES,
    ) -> dict[str, dict[str, float | None]]:
        """Summarize each variant's CloudWatch metrics over ``start``..``end`` in one period.

        :return: ``{variant: {"Invocations": n, "Invocation4XXErrors": n, "Invocation5XXErrors": n,
            "InvocationModelErrors": n, "ModelLatency.Average": us, "ModelLatency.p99": us, ...}}``;
            a latency statistic is None when the variant has no datapoint.
        """
        window = MetricWindow(start, end)
        queries, index = build_queries(endpoint_name, variant_names, window, check_percentiles(percentiles))
        client = self.get_cloudwatch_client()
        results: list[dict[str, Any]] = []
        with self._api("GetMetricData"):
            for offset in range(0, len(queries), 500):  # at most 500 queries per call
                results.extend(
                    metric_data_results(
                        client,
                        MetricDataQueries=queries[offset : offset + 500],
                        StartTime=window.aligned_start,
                        EndTime=end,
                    )
                )
        return summarize_results(results, index, variant_names)
