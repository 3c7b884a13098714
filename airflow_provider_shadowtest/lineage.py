"""OpenLineage for the shadow-test operators: the models' artifacts in, the endpoint out.

A shadow test is where a model reaches production, so Create, Stop and Evaluate report the edge
the way the Amazon provider's SageMaker operators report theirs (``get_openlineage_facets_on_complete``
returning an ``OperatorLineage`` of ``Dataset`` objects):

- inputs: the artifacts of the production and candidate models (``ModelDataUrl`` of the primary
  container or of each container, or ``ModelDataSource``), as ``s3://bucket`` + key datasets
  like the Amazon provider's ``path_to_s3_dataset``; a model without artifacts (weights baked
  into its image) is named by its ARN instead, so the edge is not lost;
- output: the endpoint, named by its ARN split as OpenLineage names AWS resources
  (namespace ``arn:aws:sagemaker:{region}:{account}``, name ``endpoint/{name}``).

The facts come from the task's rendered arguments (experiment or endpoint name) and from
Describe calls made when the task has succeeded. Nothing here is imported when a DAG file is
parsed beyond this module itself (no OpenLineage, boto3 or Airflow import at module level);
without ``apache-airflow-providers-openlineage`` Airflow never calls the method, and a direct
call returns None. A failure while collecting lineage is logged as a warning and reported as
empty lineage: it never fails the task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, cast
from urllib.parse import urlparse

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterable, Mapping
    from typing import Protocol

    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

    class _LineageOperator(Protocol):
        """What the mixin needs of the operator it is mixed into."""

        task_id: str

        @property
        def hook(self) -> InferenceExperimentHook: ...

        @property
        def log(self) -> logging.Logger: ...


class DatasetId(NamedTuple):
    """An OpenLineage dataset identity: ``namespace`` (the data source) and ``name`` within it."""

    namespace: str
    name: str


class LineageSubject(NamedTuple):
    """What a finished task worked on: the experiment, the endpoint, the variants to follow.

    :param experiment_name: the inference experiment (None: Evaluate given only an endpoint).
    :param endpoint_name: the endpoint, when known without a Describe.
    :param variant_names: the variants whose models feed the endpoint, production first; used
        only when there is no experiment to read them from.
    """

    experiment_name: str | None
    endpoint_name: str | None = None
    variant_names: tuple[str, ...] = ()


# -- pure: Describe results -> dataset identities ----------------------------------------------
def dataset_from_uri(uri: str) -> DatasetId:
    """Name a storage URI as the Amazon provider does: ``s3://bucket`` + the key (``/`` for none)."""
    parsed = urlparse(uri)
    if not parsed.scheme or not parsed.netloc:
        raise ValueError(f"artifact URI {uri!r}: expected scheme://bucket/key")
    return DatasetId(namespace=f"{parsed.scheme}://{parsed.netloc}", name=parsed.path.lstrip("/") or "/")


def dataset_from_arn(arn: str) -> DatasetId:
    """Name an AWS resource by its ARN: namespace up to the account, name the resource part.

    ``arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn`` gives namespace
    ``arn:aws:sagemaker:us-east-1:123456789012`` and name ``endpoint/churn`` (OpenLineage's
    naming for AWS catalogs, e.g. Glue's ``arn:aws:glue:{region}:{account}`` + ``table/...``).
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[5]:
        raise ValueError(f"ARN {arn!r}: expected arn:partition:service:region:account:resource")
    return DatasetId(namespace=":".join(parts[:5]), name=parts[5])


def model_artifact_uris(described_model: Mapping[str, Any]) -> list[str]:
    """Return the artifact URIs of a DescribeModel result, primary container first, no duplicates."""
    containers = [described_model.get("PrimaryContainer") or {}, *(described_model.get("Containers") or [])]
    uris: list[str] = []
    for container in containers:
        source = ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
        for uri in (container.get("ModelDataUrl"), source):
            if uri and uri not in uris:
                uris.append(str(uri))
    return uris


def model_datasets(described_model: Mapping[str, Any]) -> list[DatasetId]:
    """Return a model's input datasets: its artifacts, or the model's ARN when it has none."""
    uris = model_artifact_uris(described_model)
    if uris:
        return [dataset_from_uri(uri) for uri in uris]
    return [dataset_from_arn(str(described_model["ModelArn"]))]


def experiment_models(described_experiment: Mapping[str, Any]) -> list[str]:
    """Return the models of a DescribeInferenceExperiment result: production first, then the shadows."""
    variants = {v["VariantName"]: v["ModelName"] for v in described_experiment.get("ModelVariants") or []}
    config = described_experiment.get("ShadowModeConfig") or {}
    order = [config.get("SourceModelVariantName")]
    order += [v.get("ShadowModelVariantName") for v in config.get("ShadowModelVariants") or []]
    ordered = [variants[name] for name in order if name in variants]
    return _unique([*ordered, *variants.values()])


def endpoint_config_models(described_config: Mapping[str, Any], variant_names: Iterable[str]) -> list[str]:
    """Return the models of the named variants of a DescribeEndpointConfig result, in that order.

    Shadow variants are looked up too (``ShadowProductionVariants``); with no names, every variant.
    """
    variants = [
        *(described_config.get("ProductionVariants") or []),
        *(described_config.get("ShadowProductionVariants") or []),
    ]
    by_name = {v["VariantName"]: v.get("ModelName") for v in variants}
    names = list(variant_names) or list(by_name)
    return _unique(str(by_name[name]) for name in names if by_name.get(name))


def subject_of(operator: Any) -> LineageSubject:
    """Return what a task worked on, from its rendered arguments.

    Create takes ``name``, Stop ``experiment_name``, Evaluate ``experiment_name`` or
    ``endpoint_name`` with the variant names. The XCom return value is not read: the listener
    calls the facet method in a forked child of the task process, where an XCom request to the
    supervisor can hang (it does under ``airflow dags test``) until the listener kills the child.
    """
    experiment = getattr(operator, "experiment_name", None) or getattr(operator, "name", None)
    endpoint = getattr(operator, "endpoint_name", None)
    names = (getattr(operator, "production_variant_name", None), getattr(operator, "shadow_variant_name", None))
    if not experiment and not endpoint:
        raise ValueError("the task names neither an inference experiment nor an endpoint")
    return LineageSubject(
        experiment_name=str(experiment) if experiment else None,
        endpoint_name=str(endpoint) if endpoint else None,
        variant_names=tuple(str(n) for n in names if n),
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# -- I/O: Describe calls -> dataset identities -----------------------------------------------------
def collect_lineage(hook: InferenceExperimentHook, subject: LineageSubject) -> tuple[list[DatasetId], list[DatasetId]]:
    """Describe the experiment, its models and its endpoint; return ``(inputs, outputs)``."""
    client = hook.client
    endpoint = subject.endpoint_name
    described: Mapping[str, Any] = {}
    if subject.experiment_name:
        described = hook.describe_inference_experiment(subject.experiment_name)
        endpoint = (described.get("EndpointMetadata") or {}).get("EndpointName") or endpoint
    if not endpoint:
        raise ValueError(f"inference experiment {subject.experiment_name!r} names no endpoint")
    described_endpoint = cast("dict[str, Any]", client.describe_endpoint(EndpointName=endpoint))
    if described:
        models = experiment_models(described)
    else:
        config_name = described_endpoint["EndpointConfigName"]
        config = cast("dict[str, Any]", client.describe_endpoint_config(EndpointConfigName=config_name))
        models = endpoint_config_models(config, subject.variant_names)
    inputs: list[DatasetId] = []
    for model in models:
        described_model = cast("dict[str, Any]", client.describe_model(ModelName=model))
        inputs += [d for d in model_datasets(described_model) if d not in inputs]
    return inputs, [dataset_from_arn(str(described_endpoint["EndpointArn"]))]


class OpenLineageMixin:
    """Report OpenLineage facets when a task succeeds: the models' artifacts in, the endpoint out.

    Add it to an operator's bases (any operator of this package with a ``hook``); it takes what
    it needs from the task's rendered arguments and from Describe calls. Active only where
    ``apache-airflow-providers-openlineage`` is installed and configured; see
    :mod:`airflow_provider_shadowtest.lineage`.
    """

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any] | None:
        """Return the lineage of the finished task; empty (with a warning) if it cannot be collected.

        :param task_instance: the finished task instance (unused: see :func:`subject_of`).
        """
        try:
            from airflow.providers.common.compat.openlineage.facet import Dataset
            from airflow.providers.openlineage.extractors import OperatorLineage
        except ImportError:
            return None
        operator = cast("_LineageOperator", self)
        try:
            subject = subject_of(self)
            inputs, outputs = collect_lineage(operator.hook, subject)
        except Exception as err:
            operator.log.warning("No OpenLineage facets for task %r: %s", operator.task_id, err, exc_info=True)
            return OperatorLineage()
        return OperatorLineage(
            inputs=[Dataset(namespace=d.namespace, name=d.name, facets={}) for d in inputs],
            outputs=[Dataset(namespace=d.namespace, name=d.name, facets={}) for d in outputs],
        )
