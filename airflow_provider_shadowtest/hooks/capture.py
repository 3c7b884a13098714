"""Hook streaming an inference experiment's data-capture objects from S3 into the capture comparison.

SageMaker writes the captured requests and responses of both variants as JSON Lines under
``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/`` (UTC hours). The hook lists one hour at a
time and reads each object line by line (botocore's streaming body), so memory holds the
records of about two hours, never a whole day.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from airflow_provider_shadowtest.connection import DEFAULT_MAX_ATTEMPTS
from airflow_provider_shadowtest.hooks.retrying import RetryingAwsHook
from airflow_provider_shadowtest.verdict.capture.agreement import CaptureComparison
from airflow_provider_shadowtest.verdict.capture.pairing import PRODUCTION, SHADOW
from airflow_provider_shadowtest.verdict.capture.records import MISSING_PREFIX, READ_ERROR

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from airflow_provider_shadowtest.verdict.capture.agreement import ComparisonResult
    from airflow_provider_shadowtest.verdict.capture.settings import CaptureComparisonSettings

log = logging.getLogger(__name__)

#: Bytes read from S3 at a time when an object is streamed.
CHUNK_BYTES = 1 << 16
#: Objects up to this size are fetched whole, ahead of the parser (SageMaker writes a few MB at
#: most); larger ones are streamed line by line.
WHOLE_OBJECT_BYTES = 32 << 20
#: Objects fetched ahead of the parser, in threads (the network wait overlaps the parsing).
PREFETCH_OBJECTS = 3


class CaptureNotConfiguredError(ValueError):
    """The experiment has no ``DataStorageConfig``: there is nothing to compare."""


def split_destination(destination: str) -> tuple[str, str]:
    """Return ``(bucket, key prefix without trailing slash)`` of an ``s3://`` or ``https://`` destination."""
    parsed = urlparse(destination)
    if parsed.scheme == "s3":
        bucket, path = parsed.netloc, parsed.path
    elif parsed.scheme == "https":
        host = parsed.netloc
        if host.startswith(("s3.", "s3-")):  # path style: s3.region.amazonaws.com/bucket/key
            bucket, _, rest = parsed.path.lstrip("/").partition("/")
            path = "/" + rest
        else:  # virtual-hosted style: bucket.s3.region.amazonaws.com/key
            bucket, path = host.split(".s3", 1)[0], parsed.path
    else:
        bucket, path = "", ""
    if not bucket:
        raise CaptureNotConfiguredError(f"DataStorageConfig.Destination: cannot read a bucket from {destination!r}")
    return bucket, path.strip("/")


def hour_prefix(prefix: str, endpoint_name: str, variant_name: str, hour: dt.datetime) -> str:
    """The key prefix of one variant's captures of one UTC hour."""
    head = f"{prefix}/" if prefix else ""
    return f"{head}{endpoint_name}/{variant_name}/{hour:%Y/%m/%d/%H}/"


def _hours(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    hour = start.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        yield hour
        hour += dt.timedelta(hours=1)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class CaptureHook(RetryingAwsHook):
    """Read an inference experiment's data capture from S3 and compare the two variants' answers.

    Takes the connection settings of
    :class:`~airflow_provider_shadowtest.hooks.inference_experiment.InferenceExperimentHook`
    (``aws_conn_id``, ``region_name``, ``verify``, ``config``) and the same retry budget.

    :param max_attempts: attempts per S3 call, the first included.
    """

    def __init__(self, *args: Any, max_attempts: int = DEFAULT_MAX_ATTEMPTS, **kwargs: Any) -> None:
        kwargs["client_type"] = "s3"
        super().__init__(*args, max_attempts=max_attempts, **kwargs)

    @property
    def client(self) -> Any:
        """The cached S3 client."""
        return cast("Any", self.conn)

    # -- reading ----------------------------------------------------------------------------------
    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """Return the keys under ``prefix``, in S3's (lexicographic) order; ClientError propagates."""
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(str(item["Key"]) for item in page.get("Contents", []) if not item["Key"].endswith("/"))
        return keys

    def iter_lines(self, bucket: str, key: str) -> Iterator[bytes]:
        """Yield the lines of one object as they arrive (no whole-object read)."""
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield from body.iter_lines(chunk_size=CHUNK_BYTES)
        finally:
            body.close()

    def _fetch(self, bucket: str, key: str) -> bytes | None:
        """The whole object when it is small enough, else None (to be streamed)."""
        response = self.client.get_object(Bucket=bucket, Key=key)
        body = response["Body"]
        if int(response.get("ContentLength") or 0) > WHOLE_OBJECT_BYTES:
            body.close()
            return None
        with body:
            return bytes(body.read())

    def feed_hour(self, comparison: CaptureComparison, side: int, bucket: str, prefix: str) -> int:
        """Feed every line under one hour prefix to ``comparison``; return the objects found.

        Up to :data:`PREFETCH_OBJECTS` objects are fetched ahead in threads. S3 errors are
        counted as ``read_error`` problems of ``side``, never raised.
        """
        try:
            keys = self.list_keys(bucket, prefix)
        except (ClientError, BotoCoreError) as error:
            comparison.note_problem(side, READ_ERROR, f"s3://{bucket}/{prefix}", _describe(error))
            return 0
        self.client  # noqa: B018 - build the client before threads share it
        with ThreadPoolExecutor(max_workers=PREFETCH_OBJECTS, thread_name_prefix="capture-fetch") as pool:
            ahead: deque[tuple[str, Future[bytes | None]]] = deque()
            queued = iter(keys)
            for key in itertools.islice(queued, PREFETCH_OBJECTS):
                ahead.append((key, pool.submit(self._fetch, bucket, key)))
            while ahead:
                key, future = ahead.popleft()
                for following in itertools.islice(queued, 1):
                    ahead.append((following, pool.submit(self._fetch, bucket, following)))
                self._feed_object(comparison, side, bucket, key, future)
        return len(keys)

    def _feed_object(
        self, comparison: CaptureComparison, side: int, bucket: str, key: str, fetched: Future[bytes | None]
    ) -> None:
        comparison.note_object(side)
        where = f"s3://{bucket}/{key}"
        line_number = 0
        try:
            data = fetched.result()
            lines: Iterable[bytes] = data.splitlines() if data is not None else self.iter_lines(bucket, key)
            for line_number, line in enumerate(lines, start=1):
                comparison.add_line(side, line, where, line_number)
        except (ClientError, BotoCoreError) as error:
            comparison.note_problem(side, READ_ERROR, f"{where}:{line_number}", _describe(error))

    # -- the comparison ---------------------------------------------------------------------------
    def compare_variants(
        self,
        *,
        destination: str,
        endpoint_name: str,
        production_variant: str,
        shadow_variant: str,
        start: dt.datetime,
        end: dt.datetime,
        settings: CaptureComparisonSettings,
    ) -> ComparisonResult:
        """Stream both variants' captures of ``start``..``end`` (hour by hour) and compare them.

        A variant without any capture object in the window is reported as ``missing_prefix``.
        """
        start, end = _utc(start), _utc(end)
        if end <= start:
            raise ValueError(f"end {end.isoformat()} must be after start {start.isoformat()}")
        bucket, prefix = split_destination(destination)
        comparison = CaptureComparison(settings, start.timestamp(), end.timestamp())
        found = [0, 0]
        variants = ((PRODUCTION, production_variant), (SHADOW, shadow_variant))
        for hour in _hours(start, end):
            for side, variant in variants:
                found[side] += self.feed_hour(
                    comparison, side, bucket, hour_prefix(prefix, endpoint_name, variant, hour)
                )
            comparison.advance(hour.timestamp())  # keep the last hour open: late files land in the next prefix
        for side, variant in variants:
            if not found[side]:
                where = f"s3://{bucket}/{hour_prefix(prefix, endpoint_name, variant, start).rsplit('/', 5)[0]}/"
                comparison.note_problem(
                    side,
                    MISSING_PREFIX,
                    where,
                    f"no capture objects for variant {variant!r} between {start:%Y-%m-%d %H:%M} "
                    f"and {end:%Y-%m-%d %H:%M} UTC",
                )
        result = comparison.finish()
        log.info("Capture comparison: %s", "; ".join(c["reason"] for c in result.checks))
        return result

    def compare_experiment(
        self,
        experiment: Mapping[str, Any],
        settings: CaptureComparisonSettings,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> ComparisonResult:
        """Compare the variants of a DescribeInferenceExperiment response over its window.

        :param experiment: ``InferenceExperimentHook.describe_inference_experiment(name)``.
        :param start: default: the schedule's start.
        :param end: default: the schedule's end, or now if that is later than now.
        :raises CaptureNotConfiguredError: when the experiment has no ``DataStorageConfig``.
        """
        storage = experiment.get("DataStorageConfig") or {}
        destination = storage.get("Destination")
        if not destination:
            raise CaptureNotConfiguredError(
                f"inference experiment {experiment.get('Name')!r} has no DataStorageConfig.Destination: "
                "turn data capture on (data_storage_config) to compare the variants' answers"
            )
        shadow_mode = experiment["ShadowModeConfig"]
        schedule = experiment.get("Schedule") or {}
        now = dt.datetime.now(dt.timezone.utc)
        window_start = start or schedule.get("StartTime") or experiment.get("CreationTime") or now
        if end is not None:
            window_end = end
        elif schedule.get("EndTime"):
            window_end = min(_utc(schedule["EndTime"]), now)
        else:
            window_end = now
        return self.compare_variants(
            destination=str(destination),
            endpoint_name=str(experiment.get("EndpointName") or experiment["EndpointMetadata"]["EndpointName"]),
            production_variant=str(shadow_mode["SourceModelVariantName"]),
            shadow_variant=str(shadow_mode["ShadowModelVariants"][0]["ShadowModelVariantName"]),
            start=window_start,
            end=window_end,
            settings=settings,
        )


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        return f"{detail.get('Code', 'Unknown')}: {detail.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"
