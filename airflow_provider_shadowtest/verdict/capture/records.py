"""Pure: one line of SageMaker data capture (JSON Lines) -> a compact record, and a tally of bad input.

A capture line looks like this (SageMaker's data-capture record format, ``eventVersion`` "0")::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "5.1,3.5,1.4", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                        "data": "{\\"label\\": 1}", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "...", "inferenceId": "...", "inferenceTime": "2026-12-01T08:12:33Z"},
     "eventVersion": "0"}

``encoding`` is ``CSV`` or ``JSON`` for content types in the configured lists and ``BASE64``
for every other content type. ``inferenceId`` is present only when the caller set one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections import Counter
from functools import lru_cache
from typing import Any, Final

#: Encodings SageMaker writes; ``BASE64`` bodies are decoded before parsing.
TEXT_ENCODINGS: Final = frozenset({"CSV", "JSON"})
BASE64: Final = "BASE64"

#: Problem kinds counted per variant (see :class:`ProblemTally`).
MALFORMED_LINE: Final = "malformed_line"
MISSING_FIELD: Final = "missing_field"
BAD_TIME: Final = "bad_time"
UNKNOWN_ENCODING: Final = "unknown_encoding"
BAD_BASE64: Final = "bad_base64"
UNPARSABLE_OUTPUT: Final = "unparsable_output"
MISSING_PREFIX: Final = "missing_prefix"
READ_ERROR: Final = "read_error"

#: Examples kept per tally, so a million bad lines do not fill the report.
MAX_EXAMPLES: Final = 10


class CaptureLineError(ValueError):
    """A capture line that cannot be used; ``kind`` is one of the problem kinds above."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class CaptureRecord:
    """What pairing and comparison need of one captured request (kept small: many are held at once).

    :param time_seconds: ``inferenceTime`` as seconds since the Unix epoch (UTC).
    :param event_id: ``eventMetadata.eventId``.
    :param inference_id: ``eventMetadata.inferenceId`` (set by the caller), or None.
    :param input_key: a hash of the request body, equal for equal bodies within one process; None without one.
    :param output: the decoded response body, replaced by the parsed value once read.
    """

    __slots__ = ("event_id", "inference_id", "input_key", "output", "paired", "time_seconds")

    def __init__(
        self, time_seconds: float, event_id: str | None, inference_id: str | None, input_key: int | None, output: Any
    ) -> None:
        self.time_seconds = time_seconds
        self.event_id = event_id
        self.inference_id = inference_id
        self.input_key = input_key
        self.output = output
        self.paired = False

    def __repr__(self) -> str:
        return f"CaptureRecord(t={self.time_seconds}, event_id={self.event_id!r}, inference_id={self.inference_id!r})"


class ProblemTally:
    """Counts of unusable input per kind, with the first few examples (where and why)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []

    def add(self, kind: str, where: str, message: str) -> None:
        self.counts[kind] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{kind} at {where}: {message}")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {"counts": dict(sorted(self.counts.items())), "examples": list(self.examples)}


@lru_cache(maxsize=8192)
def parse_inference_time(text: str) -> float:
    """Return seconds since the epoch for an ISO-8601 UTC time such as ``2026-12-01T08:12:33Z``.

    :raises ValueError: when ``text`` is not such a time.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def decode_body(body: Any, what: str) -> str:
    """Return the text of a captured ``endpointInput``/``endpointOutput`` (base64 bodies decoded)."""
    if not isinstance(body, dict):
        raise CaptureLineError(MISSING_FIELD, f"captureData.{what} is missing")
    data = body.get("data")
    if not isinstance(data, str):
        raise CaptureLineError(MISSING_FIELD, f"captureData.{what}.data is missing")
    encoding = body.get("encoding")
    if encoding in TEXT_ENCODINGS:
        return data
    if encoding == BASE64:
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as error:
            raise CaptureLineError(BAD_BASE64, f"captureData.{what}.data is not base64 UTF-8 text: {error}") from error
    content_type = body.get("observedContentType")
    raise CaptureLineError(
        UNKNOWN_ENCODING, f"captureData.{what}.encoding {encoding!r} (content type {content_type!r}) is unknown"
    )


_decoder = json.JSONDecoder()


def decode_json(text: str) -> Any:
    """``json.loads`` for one value, faster on the usual line without surrounding whitespace."""
    try:
        value, end = _decoder.raw_decode(text)
    except ValueError:
        return _decoder.decode(text)  # leading whitespace, or the precise error
    if end != len(text) and text[end:].strip():
        return _decoder.decode(text)  # raises: extra data
    return value


def parse_capture_line(line: bytes | str) -> CaptureRecord:
    """Parse one JSON Lines capture record; the output body stays text (see :class:`CaptureRecord`).

    :raises CaptureLineError: naming the problem kind and the field.
    """
    try:
        event = decode_json(line.decode("utf-8") if isinstance(line, bytes) else line)
    except ValueError as error:
        raise CaptureLineError(MALFORMED_LINE, f"not JSON: {error}") from error
    try:  # the common, well-formed case without a check per field
        capture = event["captureData"]
        metadata = event["eventMetadata"]
        seconds = parse_inference_time(metadata["inferenceTime"])
        output_body = capture["endpointOutput"]
        if output_body["encoding"] in TEXT_ENCODINGS and isinstance(output_body["data"], str):
            output = output_body["data"]
        else:
            output = decode_body(output_body, "endpointOutput")
        input_data = capture["endpointInput"]["data"]
        event_id, inference_id = metadata.get("eventId"), metadata.get("inferenceId")
    except (KeyError, TypeError, AttributeError, ValueError):
        return _parse_checked(event)
    return CaptureRecord(
        seconds,
        event_id if isinstance(event_id, str) and event_id else None,
        inference_id if isinstance(inference_id, str) and inference_id else None,
        hash(input_data) if isinstance(input_data, str) else None,
        output,
    )


def _parse_checked(event: Any) -> CaptureRecord:
    """Parse field by field, to name the first problem precisely."""
    if not isinstance(event, dict):
        raise CaptureLineError(MALFORMED_LINE, "not a JSON object")
    capture = event.get("captureData")
    metadata = event.get("eventMetadata")
    if not isinstance(capture, dict):
        raise CaptureLineError(MISSING_FIELD, "captureData is missing")
    if not isinstance(metadata, dict):
        raise CaptureLineError(MISSING_FIELD, "eventMetadata is missing")
    time_text = metadata.get("inferenceTime")
    if not isinstance(time_text, str):
        raise CaptureLineError(MISSING_FIELD, "eventMetadata.inferenceTime is missing")
    try:
        seconds = parse_inference_time(time_text)
    except ValueError as error:
        raise CaptureLineError(BAD_TIME, f"eventMetadata.inferenceTime {time_text!r}: {error}") from error
    request = capture.get("endpointInput")
    # The raw (possibly base64) request body identifies the request: equal bodies, equal text.
    input_data = request.get("data") if isinstance(request, dict) else None
    input_key = hash(input_data) if isinstance(input_data, str) else None
    output = decode_body(capture.get("endpointOutput"), "endpointOutput")
    event_id = metadata.get("eventId")
    inference_id = metadata.get("inferenceId")
    return CaptureRecord(
        seconds,
        event_id if isinstance(event_id, str) and event_id else None,
        inference_id if isinstance(inference_id, str) and inference_id else None,
        input_key,
        output,
    )
