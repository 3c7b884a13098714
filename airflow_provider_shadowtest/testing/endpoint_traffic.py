"""Production traffic of endpoints outside experiments: a real endpoint publishes whenever it serves.

An endpoint whose production model has a traffic profile (an entry for the model or ``"*"`` in
the settings' ``traffic_profiles``, or ``shadowtest:`` tags on the model) publishes its
production variants' metrics from its creation on, experiment or not. Inside an experiment's
traffic window the experiment's own stream already publishes production (and the shadow reads
the same requests), so the endpoint stream covers only the time outside those windows: no
minute is counted twice.

Which variant is production when: after a Stop that promoted, the endpoint serves the promoted
variant; before it, the experiment's source variant. The history is read from the experiments
recorded on the endpoint (deleted ones included) and the endpoint's current config.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_shadowtest.testing.cw_stats import Sample


@dataclass(frozen=True)
class ProductionWindow:
    """One production variant of an endpoint over a time span (naive UTC; ``end`` None: still serving)."""

    endpoint_name: str
    variant_name: str
    model_name: str
    start: datetime
    end: datetime | None
    share_percent: float = 100.0
    instance_count: int | None = None
    model_tags: Mapping[str, str] = field(default_factory=dict)
    #: when the variant was deployed (its warm-up starts); None when it was already warm
    deployed_at: datetime | None = None


def has_profile(model_name: str, tags: Mapping[str, str], profiles: Mapping[str, Any]) -> bool:
    """True when a traffic profile is configured for the model (settings or ``shadowtest:`` tags)."""
    return "*" in profiles or model_name in profiles or any(k.startswith("shadowtest:") for k in tags)


def endpoint_windows(account_id: str, region: str, profiles: Mapping[str, Any]) -> list[ProductionWindow]:
    """The production windows of every endpoint of one account and region that has a traffic profile."""
    from moto.sagemaker.models import sagemaker_backends

    from airflow_provider_shadowtest.testing.store import deleted_experiments, experiments, lock_of

    backend = sagemaker_backends[account_id][region]
    windows: list[ProductionWindow] = []
    with lock_of(backend):
        records = [*deleted_experiments(backend), *experiments(backend).values()]
        for endpoint in list(backend.endpoints.values()):
            windows.extend(_endpoint_history(backend, endpoint, records, profiles))
    return windows


def _endpoint_history(
    backend: Any, endpoint: Any, records: list[Any], profiles: Mapping[str, Any]
) -> list[ProductionWindow]:
    name = endpoint.endpoint_name
    promotions = sorted(
        (at, index, r)
        for index, r in enumerate(records)
        if r.endpoint_name == name and (at := _promoted_at(r)) is not None
    )
    windows: list[ProductionWindow] = []
    created: datetime = endpoint.creation_time
    since = created
    for until, _, record in promotions:
        source = record.variant(record.source_variant) or {}
        rt = (source.get("InfrastructureConfig") or {}).get("RealTimeInferenceConfig") or {}
        model = str(source.get("ModelName", ""))
        windows.append(
            ProductionWindow(
                name,
                record.source_variant,
                model,
                since,
                until,
                100.0,
                rt.get("InstanceCount"),
                _tags(backend, model),
                created if since == created else None,
            )
        )
        since = until
    variants = _current_production(backend, endpoint)
    total_weight = sum(float(v.get("InitialVariantWeight") or 1.0) for v in variants) or 1.0
    for variant in variants:
        model = str(variant.get("ModelName", ""))
        share = 100.0 * float(variant.get("InitialVariantWeight") or 1.0) / total_weight
        windows.append(
            ProductionWindow(
                name,
                str(variant["VariantName"]),
                model,
                since,
                None,
                share,
                variant.get("InitialInstanceCount"),
                _tags(backend, model),
                created if since == created else None,
            )
        )
    return [w for w in windows if has_profile(w.model_name, w.model_tags, profiles)]


def _promoted_at(record: Any) -> datetime | None:
    if record.stopped_at is None or record.variant_actions.get(record.shadow_variant) != "Promote":
        return None
    finished: datetime | None = record.stopping_until() or record.stopped_at
    return finished


def _current_production(backend: Any, endpoint: Any) -> list[dict[str, Any]]:
    from airflow_provider_shadowtest.testing.endpoints import production_variants

    return [v for v in production_variants(backend, endpoint) if v.get("VariantName")]


def _tags(backend: Any, model_name: str) -> dict[str, str]:
    model = backend._models.get(model_name)
    tags = getattr(model, "tags", None) or []
    return {str(t.get("Key")): str(t.get("Value", "")) for t in tags}


def production_samples(
    window: ProductionWindow,
    excluded: list[tuple[datetime, datetime]],
    names: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    *,
    profiles: Mapping[str, Any],
    seed: int,
    now: datetime,
) -> list[Sample]:
    """The production variant's samples over its window, outside the ``excluded`` experiment windows."""
    from airflow_provider_shadowtest.testing.metrics import VariantSpan, minute_spans, resolve_profile, variant_samples

    profile = resolve_profile(window.model_name, window.model_tags, profiles)
    if window.instance_count:
        profile = replace(profile, instance_count=int(window.instance_count))
    last = now if window.end is None else min(window.end, now)
    span = VariantSpan(
        window.endpoint_name, window.variant_name, window.endpoint_name, window.share_percent, window.deployed_at
    )
    samples: list[Sample] = []
    for minute, lo, hi in minute_spans(window.start, last, start, end):
        for piece in _outside(minute, lo, hi, excluded):
            samples.extend(variant_samples(span, profile, profile, names, minute, piece, seed))
    return samples


def _outside(minute: int, lo: float, hi: float, excluded: list[tuple[datetime, datetime]]) -> list[tuple[float, float]]:
    """The parts of ``[lo, hi)`` seconds of a minute that no excluded window covers."""
    from datetime import timedelta

    minute_start = datetime(1970, 1, 1) + timedelta(minutes=minute)
    pieces = [(lo, hi)]
    for first, last in excluded:
        a = (first - minute_start).total_seconds()
        b = (last - minute_start).total_seconds()
        if b <= 0 or a >= 60:
            continue
        pieces = [
            part for p_lo, p_hi in pieces for part in ((p_lo, min(p_hi, a)), (max(p_lo, b), p_hi)) if part[1] > part[0]
        ]
    return pieces
