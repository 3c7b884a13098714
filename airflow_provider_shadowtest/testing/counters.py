"""Per-operation request, rejection and fault counts of the SageMaker and CloudWatch calls the emulator serves."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounters:
    """Thread-safe counts: requests received per operation, and faults injected per operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._fault_kinds: Counter[str] = Counter()
        self._operation_kinds: Counter[tuple[str, str]] = Counter()
        self._rejected: Counter[str] = Counter()

    def count_request(self, operation: str) -> None:
        with self._lock:
            self._requests[operation] += 1

    def count_fault(self, operation: str, kind: str) -> None:
        with self._lock:
            self._faults[operation] += 1
            self._fault_kinds[kind] += 1
            self._operation_kinds[(operation, kind)] += 1

    def count_rejected(self, operation: str) -> None:
        """Count a request refused before it ran (unreadable, or breaking the service model)."""
        with self._lock:
            self._rejected[operation] += 1

    def rejected(self) -> dict[str, int]:
        """Return ``{operation: requests refused before they ran}`` (also counted in :meth:`requests`)."""
        with self._lock:
            return dict(sorted(self._rejected.items()))

    def requests(self) -> dict[str, int]:
        """Return ``{operation: requests received}`` (faulted requests included)."""
        with self._lock:
            return dict(sorted(self._requests.items()))

    def faults(self) -> dict[str, int]:
        """Return ``{operation: faults injected}``."""
        with self._lock:
            return dict(sorted(self._faults.items()))

    def fault_kinds(self) -> dict[str, int]:
        """Return ``{fault kind: faults injected}``."""
        with self._lock:
            return dict(sorted(self._fault_kinds.items()))

    def fault_kinds_by_operation(self) -> dict[str, dict[str, int]]:
        """Return ``{operation: {fault kind: faults injected}}``."""
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for (operation, kind), count in sorted(self._operation_kinds.items()):
                out.setdefault(operation, {})[kind] = count
        return out

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._fault_kinds.clear()
            self._operation_kinds.clear()
            self._rejected.clear()


#: The process-wide counters (one emulator per process).
COUNTERS = RequestCounters()
