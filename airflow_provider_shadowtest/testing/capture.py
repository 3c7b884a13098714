"""Data capture of running shadow tests: JSON Lines written to moto's S3, as SageMaker writes them.

For an experiment with ``DataStorageConfig``, each simulated request of the production variant
(and the share mirrored to the shadow) that did not fail becomes one capture record per variant,
in SageMaker's data-capture format, under ``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/``
(UTC), a few minutes of traffic per object. Bodies whose content type is not in the
configured CSV/JSON lists (or all of them, without ``ContentType``) are base64-encoded.

The requests are those of :mod:`.traffic` (same seed, stream and minute), so the captures match
the CloudWatch metrics. Each request carries a seeded feature vector (CSV input) and a true
score; each model answers ``{"predicted_label": 0|1, "score": s}`` (JSON) from its
:class:`CaptureProfile`: a candidate can disagree on a share of labels or shift its scores.

Files appear lazily: listing a bucket (ListObjects, ListObjectsV2) first writes every
not-yet-written capture up to now (:func:`materialize_captures`), so time travel works and
nothing runs in the background. A missing bucket loses the data, as on AWS (logged).

Profiles, later wins: :class:`CaptureProfile` defaults; :func:`set_capture_profiles` or
``SHADOWTEST_CAPTURE_PROFILES`` (JSON keyed by model name or ``"*"``); model tags
(:data:`CAPTURE_TAG_FIELDS`, e.g. ``shadowtest:disagreement-rate=10%``).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import json
import logging
import math
import os
import random
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

log = logging.getLogger(__name__)

CAPTURE_TAG_FIELDS: Final[Mapping[str, str]] = {
    "shadowtest:disagreement-rate": "disagreement_rate",
    "shadowtest:score-shift": "score_shift",
    "shadowtest:score-noise": "score_noise",
    "shadowtest:inference-id-rate": "inference_id_rate",
}
ENV_PROFILES: Final = "SHADOWTEST_CAPTURE_PROFILES"
INPUT_CONTENT_TYPE: Final = "text/csv"
OUTPUT_CONTENT_TYPE: Final = "application/json"
#: Minutes of traffic per capture object (split at hour boundaries).
OBJECT_MINUTES: Final = 5
_FEATURES: Final = 6
_WEIGHTS: Final = (1.2, -0.8, 0.5, 0.9, -0.4, 0.3)
_EPOCH: Final = dt.datetime(1970, 1, 1)
_MARK: Final = "_shadowtest_capture"
_LEDGER_ATTR: Final = "_shadowtest_capture_ledger"


@dataclasses.dataclass(frozen=True)
class CaptureProfile:
    """How one model answers, relative to the request's true score.

    :param disagreement_rate: share of requests whose label this model flips (0..1).
    :param score_shift: added to every score (then clipped to 0..1).
    :param score_noise: standard deviation of per-request noise on the score.
    :param inference_id_rate: share of requests whose caller set an ``InferenceId``; only the
        production model's value counts (callers send the id, the mirror keeps it).
    """

    disagreement_rate: float = 0.0
    score_shift: float = 0.0
    score_noise: float = 0.01
    inference_id_rate: float = 0.5

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be between 0 and 1"
            for name in ("disagreement_rate", "inference_id_rate")
            if not 0 <= getattr(self, name) <= 1
        ]
        if not (math.isfinite(self.score_shift) and self.score_noise >= 0):
            problems.append("score_shift must be finite and score_noise >= 0")
        if problems:
            raise ValueError("invalid capture profile: " + "; ".join(problems))


@dataclasses.dataclass(frozen=True)
class CaptureStream:
    """One experiment's capture: where it goes and who answers.

    :param stream: the traffic stream name (``{endpoint}/{experiment}``, as the metrics use).
    :param rps: requests per second of the production model's traffic profile.
    :param failure_rates: ``(production, shadow)`` shares of failing requests (not captured).
    :param csv_content_types: ``DataStorageConfig.ContentType.CsvContentTypes``.
    :param json_content_types: ``DataStorageConfig.ContentType.JsonContentTypes``.
    """

    bucket: str
    prefix: str
    endpoint_name: str
    stream: str
    production_variant: str
    shadow_variant: str
    shadow_percent: float
    rps: float
    production: CaptureProfile = CaptureProfile()
    shadow: CaptureProfile = CaptureProfile()
    failure_rates: tuple[float, float] = (0.0, 0.0)
    csv_content_types: tuple[str, ...] = ()
    json_content_types: tuple[str, ...] = ()


# -- profiles ------------------------------------------------------------------------------------
_configured: dict[str, Any] | None = None


def set_capture_profiles(profiles: Mapping[str, Any] | None) -> None:
    """Set capture profiles by model name (``"*"`` for all); None goes back to the environment's."""
    global _configured
    _configured = None if profiles is None else dict(profiles)


def resolve_capture_profile(
    model_name: str, tags: Mapping[str, str] | None = None, profiles: Mapping[str, Any] | None = None
) -> CaptureProfile:
    """Return a model's profile: defaults, ``profiles["*"]``, ``profiles[model_name]``, then tags."""
    if profiles is None:
        profiles = _configured if _configured is not None else json.loads(os.environ.get(ENV_PROFILES) or "{}")
    profile = CaptureProfile()
    for key in ("*", model_name):
        value = profiles.get(key)
        if isinstance(value, CaptureProfile):
            profile = value
        elif isinstance(value, Mapping):
            profile = dataclasses.replace(profile, **dict(value))
    for tag, name in CAPTURE_TAG_FIELDS.items():
        text = (tags or {}).get(tag)
        if text is None:
            continue
        try:
            number = float(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
            profile = dataclasses.replace(profile, **{name: number})
        except ValueError as error:
            log.warning("ignoring tag %s=%r: %s", tag, text, error)
    return profile


# -- records -------------------------------------------------------------------------------------
def _encode(body: str, content_type: str, stream: CaptureStream) -> tuple[str, str]:
    if content_type in stream.csv_content_types:
        return body, "CSV"
    if content_type in stream.json_content_types:
        return body, "JSON"
    return base64.b64encode(body.encode()).decode("ascii"), "BASE64"


def _record(  # noqa: PLR0917 - one record's fields
    stream: CaptureStream, when: dt.datetime, request: str, response: str, event_id: str, inference_id: str | None
) -> str:
    data_in, enc_in = _encode(request, INPUT_CONTENT_TYPE, stream)
    data_out, enc_out = _encode(response, OUTPUT_CONTENT_TYPE, stream)
    metadata = {"eventId": event_id, "inferenceTime": f"{when:%Y-%m-%dT%H:%M:%S}Z"}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": INPUT_CONTENT_TYPE,
                    "mode": "INPUT",
                    "data": data_in,
                    "encoding": enc_in,
                },
                "endpointOutput": {
                    "observedContentType": OUTPUT_CONTENT_TYPE,
                    "mode": "OUTPUT",
                    "data": data_out,
                    "encoding": enc_out,
                },
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )


def _answer(rng: random.Random, truth: float, profile: CaptureProfile) -> str:
    score = min(1.0, max(0.0, truth + profile.score_shift + rng.gauss(0.0, profile.score_noise)))
    label = int(score >= 0.5)
    if rng.random() < profile.disagreement_rate:
        label = 1 - label
    return f'{{"predicted_label":{label},"score":{score:.4f}}}'


def capture_lines(
    stream: CaptureStream, seed: int, start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[int, dt.datetime, str]]:
    """Yield ``(side, inferenceTime, line)`` (side 0 production, 1 shadow) for requests in ``start..end``.

    Naive UTC times. Deterministic in ``seed``, the stream and the minute.
    """
    from airflow_provider_shadowtest.testing.traffic import minute_requests

    first = math.floor((start - _EPOCH).total_seconds() / 60)
    last = math.ceil((end - _EPOCH).total_seconds() / 60)
    prod_fail, shadow_fail = stream.failure_rates
    for minute in range(first, last):
        minute_start = _EPOCH + dt.timedelta(minutes=minute)
        _, requests = minute_requests(seed, stream.stream, minute, stream.rps)
        for index, (offset, sampling, outcome, _z1, _z2) in enumerate(requests):
            when = minute_start + dt.timedelta(seconds=offset)
            if not start <= when < end:
                continue
            rng = random.Random(f"shadowtest-capture/{seed}/{stream.stream}/{minute}/{index}")
            features = [rng.gauss(0.0, 1.0) for _ in range(_FEATURES)]
            truth = 1 / (1 + math.exp(-sum(w * x for w, x in zip(_WEIGHTS, features, strict=True))))
            request = ",".join(f"{x:.4f}" for x in features)
            inference_id = f"req-{minute}-{index}" if rng.random() < stream.production.inference_id_rate else None
            answers = (_answer(rng, truth, stream.production), _answer(rng, truth, stream.shadow))
            event_ids = (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
            if outcome >= prod_fail:
                yield 0, when, _record(stream, when, request, answers[0], event_ids[0], inference_id)
            if sampling * 100.0 < stream.shadow_percent and outcome >= shadow_fail:
                shadow_when = when + dt.timedelta(milliseconds=40)
                yield 1, shadow_when, _record(stream, shadow_when, request, answers[1], event_ids[1], inference_id)


def write_captures(
    put: Callable[[str, str, bytes], object], stream: CaptureStream, seed: int, start: dt.datetime, end: dt.datetime
) -> int:
    """Write the captures of ``start..end`` as objects via ``put(bucket, key, body)``; return the records."""
    variants = (stream.production_variant, stream.shadow_variant)
    buffers: tuple[list[str], list[str]] = ([], [])
    opened: list[dt.datetime | None] = [None, None]
    written = 0

    def flush(side: int) -> None:
        when = opened[side]
        if when is None or not buffers[side]:
            return
        head = f"{stream.prefix}/" if stream.prefix else ""
        unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{stream.stream}/{side}/{when.isoformat()}")
        name = f"{when:%M-%S}-{when.microsecond // 1000:03d}-{unique}"
        key = f"{head}{stream.endpoint_name}/{variants[side]}/{when:%Y/%m/%d/%H}/{name}.jsonl"
        put(stream.bucket, key, ("\n".join(buffers[side]) + "\n").encode())
        buffers[side].clear()
        opened[side] = None

    for side, when, line in capture_lines(stream, seed, start, end):
        first = opened[side]
        if first is not None and (
            when.hour != first.hour
            or when - first >= dt.timedelta(minutes=OBJECT_MINUTES)
            or when.date() != first.date()
        ):
            flush(side)
        if opened[side] is None:
            opened[side] = when
        buffers[side].append(line)
        written += 1
    flush(0)
    flush(1)
    return written


# -- moto ----------------------------------------------------------------------------------------
_lock = threading.Lock()


def _streams(backend: Any, now: dt.datetime) -> Iterator[tuple[Any, CaptureStream, dt.datetime, dt.datetime]]:
    from airflow_provider_shadowtest.testing.metrics import resolve_profile
    from airflow_provider_shadowtest.testing.settings import current_settings
    from airflow_provider_shadowtest.testing.store import deleted_experiments, experiments, lock_of

    with lock_of(backend):
        exps = [e.snapshot() for e in [*deleted_experiments(backend), *experiments(backend).values()]]
    ledger: dict[tuple[str, dt.datetime], dt.datetime] = backend.__dict__.setdefault(_LEDGER_ATTR, {})
    traffic_profiles = current_settings().traffic_profiles
    for exp in exps:
        storage = exp.data_storage_config or {}
        if not storage.get("Destination") or not exp.has_run(now):
            continue
        ident = (exp.arn, exp.creation_time)
        begin, upto = ledger.get(ident, exp.running_at()), exp.traffic_end(now)
        source, shadow = exp.variant(exp.source_variant), exp.variant(exp.shadow_variant)
        if upto <= begin or source is None or shadow is None:
            continue
        destination = str(storage["Destination"])
        bucket, _, prefix = destination.split("://", 1)[-1].partition("/")
        tags = {m: _tags_of(backend, m) for m in (source["ModelName"], shadow["ModelName"])}
        traffic = [resolve_profile(v["ModelName"], tags[v["ModelName"]], traffic_profiles) for v in (source, shadow)]
        content = storage.get("ContentType") or {}
        stream = CaptureStream(
            bucket=bucket,
            prefix=prefix.strip("/"),
            endpoint_name=exp.endpoint_name,
            stream=f"{exp.endpoint_name}/{exp.name}",
            production_variant=exp.source_variant,
            shadow_variant=exp.shadow_variant,
            shadow_percent=float(exp.sampling_percent),
            rps=traffic[0].rps,
            production=resolve_capture_profile(source["ModelName"], tags[source["ModelName"]]),
            shadow=resolve_capture_profile(shadow["ModelName"], tags[shadow["ModelName"]]),
            failure_rates=tuple(  # type: ignore[arg-type]
                t.error_4xx_rate + t.error_5xx_rate + t.model_error_rate for t in traffic
            ),
            csv_content_types=tuple(content.get("CsvContentTypes") or ()),
            json_content_types=tuple(content.get("JsonContentTypes") or ()),
        )
        ledger[ident] = upto
        yield backend, stream, begin, upto


def _tags_of(backend: Any, model_name: str) -> dict[str, str]:
    model = backend._models.get(model_name)
    return {str(t.get("Key")): str(t.get("Value", "")) for t in getattr(model, "tags", None) or []}


def materialize_captures(account_id: str | None = None, now: dt.datetime | None = None) -> int:
    """Write every capture record not yet written, up to ``now`` (naive UTC); return the records.

    :param account_id: only this account's experiments (default: every account).
    """
    from moto.core.utils import utcnow
    from moto.s3.models import s3_backends
    from moto.sagemaker.models import sagemaker_backends

    from airflow_provider_shadowtest.testing.settings import current_settings

    moment = now or utcnow()
    seed = int(current_settings().metrics_seed)
    written = 0
    with _lock:
        for account, regions in list(dict.items(sagemaker_backends)):
            if account_id is not None and account != account_id:
                continue
            for backend in list(dict.values(regions)):
                for _, stream, begin, upto in list(_streams(backend, moment)):
                    s3 = s3_backends[account]["aws"]
                    try:
                        s3.get_bucket(stream.bucket)
                    except Exception:  # moto's MissingBucket: SageMaker cannot write, the data is lost
                        log.warning(
                            "capture bucket %r does not exist; captures of %s are lost", stream.bucket, stream.stream
                        )
                        continue
                    written += write_captures(s3.put_object, stream, seed, begin, upto)
    return written


def _materializing(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            materialize_captures(getattr(self, "current_account", None))
        except Exception:  # never break S3 because of the capture simulation
            log.exception("writing simulated data capture failed")
        return method(self, *args, **kwargs)

    setattr(wrapper, _MARK, True)
    return wrapper


def install() -> None:
    """Write captures before moto's S3 lists a bucket (idempotent)."""
    from moto.s3.responses import S3Response

    for name in ("list_objects", "list_objects_v2"):
        current = getattr(S3Response, name, None)
        if current is not None and not getattr(current, _MARK, False):
            setattr(S3Response, name, _materializing(current))
