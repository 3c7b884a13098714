"""Simulated instance metrics of a variant, namespace ``/aws/sagemaker/Endpoints`` (pure).

SageMaker publishes, per variant (dimensions ``EndpointName``, ``VariantName``) and per
minute, the utilization of its instances in percent: ``CPUUtilization`` (can exceed 100 on
several cores), ``MemoryUtilization``, ``DiskUtilization`` and, on GPU instances,
``GPUUtilization`` and ``GPUMemoryUtilization``. Here they follow the load each instance
carries (the variant's invocations of the minute over its instance count) and the profile's
knobs, with seeded per-instance noise; the datapoint of a minute has one value per instance
(``SampleCount`` is the instance count, ``Average`` the fleet's mean).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Final

from airflow_provider_shadowtest.testing.cw_stats import Sample

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_provider_shadowtest.testing.traffic import TrafficProfile

INSTANCE_NAMESPACE: Final = "/aws/sagemaker/Endpoints"
CPU = "CPUUtilization"
MEMORY = "MemoryUtilization"
DISK = "DiskUtilization"
GPU = "GPUUtilization"
GPU_MEMORY = "GPUMemoryUtilization"
INSTANCE_METRIC_NAMES: Final = (CPU, MEMORY, DISK, GPU, GPU_MEMORY)
_NOISE_PERCENT: Final = {CPU: 1.5, MEMORY: 0.5, DISK: 0.05, GPU: 2.0, GPU_MEMORY: 0.5}


def published(profile: TrafficProfile) -> tuple[str, ...]:
    """The instance metrics a variant with ``profile`` publishes (GPU ones only with GPUs)."""
    return INSTANCE_METRIC_NAMES if profile.gpu_count > 0 else (CPU, MEMORY, DISK)


def mean_percent(metric_name: str, profile: TrafficProfile, rps_per_instance: float) -> float:
    """The expected utilization of one instance at a load of ``rps_per_instance``."""
    latency_scale = profile.latency_ms / 40.0  # slower models burn more CPU per request
    if metric_name == CPU:
        return profile.idle_cpu_percent + profile.cpu_percent_per_rps * rps_per_instance * latency_scale
    if metric_name == MEMORY:
        return min(100.0, profile.memory_percent + 0.5 * rps_per_instance)
    if metric_name == DISK:
        return profile.disk_percent
    if metric_name == GPU:
        return min(100.0 * profile.gpu_count, 1.5 * profile.cpu_percent_per_rps * rps_per_instance * latency_scale)
    if metric_name == GPU_MEMORY:
        return min(100.0, 25.0 + 0.25 * rps_per_instance)
    raise ValueError(f"not an instance metric: {metric_name}")


def instance_samples(
    metric_name: str,
    *,
    profile: TrafficProfile,
    invocations: int,
    dimensions: frozenset[tuple[str, str]],
    timestamp: datetime,
    seed_key: str,
) -> list[Sample]:
    """Return the datapoint of ``metric_name`` for one variant-minute (none if not published).

    :param invocations: the variant's requests in the minute (all instances).
    :param seed_key: identifies the variant-minute, for the seeded noise.
    """
    if metric_name not in published(profile):
        return []
    instances = profile.instance_count
    mean = mean_percent(metric_name, profile, invocations / 60.0 / instances)
    rng = random.Random(f"shadowtest-instance/{seed_key}/{metric_name}")
    noise = _NOISE_PERCENT[metric_name]
    values = [max(0.0, rng.gauss(mean, noise)) for _ in range(instances)]
    return [
        Sample(
            INSTANCE_NAMESPACE,
            metric_name,
            dimensions,
            timestamp,
            "Percent",
            float(instances),
            sum(values),
            min(values),
            max(values),
            tuple((value, 1.0) for value in values),
        )
    ]
