"""SageMaker's service model, read as data from botocore: the authority on every constraint.

botocore is imported on first use only (importing it costs a few hundred milliseconds and DAG
files are parsed every 30 s); the model is loaded once and cached. Nothing here talks to AWS.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.experiment.patterns import JavaPattern, compile_java_pattern

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Shape", "input_shape", "instance_types", "shape"]

SERVICE = "sagemaker"


@functools.lru_cache(maxsize=1)
def _raw_shapes() -> Mapping[str, Any]:
    import botocore.loaders

    model = botocore.loaders.create_loader().load_service_model(SERVICE, "service-2")
    return {"shapes": model["shapes"], "operations": model["operations"]}


class Shape:
    """One shape of the service model, with what validation needs and nothing else.

    :param name: the shape's name in the model, e.g. ``ModelVariantConfig``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._raw: Mapping[str, Any] = _raw_shapes()["shapes"][name]

    @property
    def type(self) -> str:
        """``structure``, ``list``, ``map``, ``string``, ``integer``, ``timestamp``..."""
        return str(self._raw["type"])

    @functools.cached_property
    def members(self) -> dict[str, Shape]:
        """Structure members by API name, in the model's order."""
        return {k: shape(v["shape"]) for k, v in self._raw.get("members", {}).items()}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self._raw.get("required", ()))

    @property
    def member(self) -> Shape:
        """The element shape of a list."""
        return shape(self._raw["member"]["shape"])

    @property
    def key(self) -> Shape:
        return shape(self._raw["key"]["shape"])

    @property
    def value(self) -> Shape:
        return shape(self._raw["value"]["shape"])

    @property
    def min(self) -> int | None:
        value = self._raw.get("min")
        return None if value is None else int(value)

    @property
    def max(self) -> int | None:
        value = self._raw.get("max")
        return None if value is None else int(value)

    @property
    def enum(self) -> tuple[str, ...]:
        return tuple(self._raw.get("enum", ()))

    @property
    def pattern(self) -> JavaPattern | None:
        source = self._raw.get("pattern")
        return None if source is None else compile_java_pattern(source)

    def __repr__(self) -> str:
        return f"Shape({self.name!r}, {self.type})"


# Shapes are read-only views of the cached model: one instance per name.
@functools.cache
def shape(name: str) -> Shape:
    """Return the named shape of SageMaker's service model."""
    return Shape(name)


def input_shape(operation: str) -> Shape:
    """Return the input shape of an operation, e.g. ``CreateInferenceExperiment``."""
    return shape(_raw_shapes()["operations"][operation]["input"]["shape"])


def instance_types() -> tuple[str, ...]:
    """Instance types a shadow-test variant may use (``ProductionVariantInstanceType``)."""
    return shape("ProductionVariantInstanceType").enum
