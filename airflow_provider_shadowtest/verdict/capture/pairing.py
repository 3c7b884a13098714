"""Pure: pair the production and shadow records of the same request, streaming, in bounded memory.

SageMaker's guide does not say which identifier, if any, the mirrored (shadow) request keeps.
So a record is paired, in this order, by:

1. ``inferenceId``: documented to be added to the captured data when the caller sets it;
2. ``eventId``: used when both variants carry the same one (not documented either way);
3. an identical request body, the nearest in time.

Every method also requires the two ``inferenceTime`` values to lie within a tolerance: the
mirrored request is served at the same moment, and identifiers set by callers are not always
unique. Both sides are indexed, so either may arrive first; :meth:`Pairer.expire` drops
unpaired records that are too old to find a partner, which bounds memory to the records of
the time still open (the caller expires hour by hour).
"""

from __future__ import annotations

from collections import Counter, deque
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_shadowtest.verdict.capture.records import CaptureRecord

PRODUCTION: Final = 0
SHADOW: Final = 1
BY_INFERENCE_ID: Final = "inference_id"
BY_EVENT_ID: Final = "event_id"
BY_INPUT: Final = "input"
METHODS: Final = (BY_INFERENCE_ID, BY_EVENT_ID, BY_INPUT)


class _Side:
    __slots__ = ("by_event", "by_inference", "by_input", "pending", "total", "unpaired")

    def __init__(self) -> None:
        self.by_inference: dict[str, CaptureRecord] = {}
        self.by_event: dict[str, CaptureRecord] = {}
        self.by_input: dict[int, list[CaptureRecord]] = {}
        self.pending: deque[CaptureRecord] = deque()
        self.total = 0
        self.unpaired = 0

    def index(self, record: CaptureRecord) -> None:
        if record.inference_id is not None:
            self.by_inference.setdefault(record.inference_id, record)
        if record.event_id is not None:
            self.by_event.setdefault(record.event_id, record)
        if record.input_key is not None:
            self.by_input.setdefault(record.input_key, []).append(record)
        self.pending.append(record)

    def forget(self, record: CaptureRecord) -> None:
        if record.inference_id is not None and self.by_inference.get(record.inference_id) is record:
            del self.by_inference[record.inference_id]
        if record.event_id is not None and self.by_event.get(record.event_id) is record:
            del self.by_event[record.event_id]
        if record.input_key is not None:
            bucket = self.by_input.get(record.input_key)
            if bucket is not None:
                bucket[:] = [r for r in bucket if r is not record and not r.paired]
                if not bucket:
                    del self.by_input[record.input_key]


class Pairer:
    """Match production and shadow records; call ``on_pair(production, shadow)`` for each pair.

    :param tolerance_seconds: the largest ``inferenceTime`` difference of a pair.
    :param on_pair: receives the production record, then the shadow record.
    """

    def __init__(self, tolerance_seconds: float, on_pair: Callable[[CaptureRecord, CaptureRecord], None]) -> None:
        if not tolerance_seconds >= 0:
            raise ValueError(f"time_tolerance_seconds must be >= 0, got {tolerance_seconds!r}")
        self.tolerance_seconds = float(tolerance_seconds)
        self._on_pair = on_pair
        self._sides = (_Side(), _Side())
        self.paired_by: Counter[str] = Counter()

    @property
    def paired(self) -> int:
        return sum(self.paired_by.values())

    def total(self, side: int) -> int:
        """Records added on ``side`` (``PRODUCTION`` or ``SHADOW``)."""
        return self._sides[side].total

    def unpaired(self, side: int) -> int:
        """Records on ``side`` that expired without a partner (see :meth:`finish`)."""
        return self._sides[side].unpaired

    def add(self, side: int, record: CaptureRecord) -> None:
        """Pair ``record`` with a waiting record of the other side, or keep it waiting."""
        own, other = self._sides[side], self._sides[1 - side]
        own.total += 1
        found = self._match(record, other)
        if found is None:
            own.index(record)
            return
        partner, method = found
        partner.paired = record.paired = True
        other.forget(partner)
        self.paired_by[method] += 1
        if side == PRODUCTION:
            self._on_pair(record, partner)
        else:
            self._on_pair(partner, record)

    def _match(self, record: CaptureRecord, other: _Side) -> tuple[CaptureRecord, str] | None:
        tolerance, when = self.tolerance_seconds, record.time_seconds
        if record.inference_id is not None:
            candidate = other.by_inference.get(record.inference_id)
            if candidate is not None and not candidate.paired and abs(candidate.time_seconds - when) <= tolerance:
                return candidate, BY_INFERENCE_ID
        if record.event_id is not None:
            candidate = other.by_event.get(record.event_id)
            if candidate is not None and not candidate.paired and abs(candidate.time_seconds - when) <= tolerance:
                return candidate, BY_EVENT_ID
        if record.input_key is not None:
            best: CaptureRecord | None = None
            best_gap = tolerance
            for candidate in other.by_input.get(record.input_key, ()):
                gap = abs(candidate.time_seconds - when)
                if not candidate.paired and gap <= best_gap:
                    best, best_gap = candidate, gap
            if best is not None:
                return best, BY_INPUT
        return None

    def expire(self, before_seconds: float) -> None:
        """Give up on waiting records older than ``before_seconds`` (epoch seconds)."""
        for side in self._sides:
            pending = side.pending
            while pending and (pending[0].paired or pending[0].time_seconds < before_seconds):
                record = pending.popleft()
                if not record.paired:
                    side.unpaired += 1
                    side.forget(record)

    def finish(self) -> None:
        """Give up on every waiting record (the end of the stream)."""
        self.expire(float("inf"))
