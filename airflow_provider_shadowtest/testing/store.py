"""Experiment records kept on moto's SageMaker backend, and their status computed from the clock.

Nothing is advanced by a background thread: every read computes the status from the wall clock
(``moto.core.utils.utcnow()``, naive UTC, which time-machine moves), the schedule and the
recorded events (creation, start, updates, stop). State lives on the backend object, so
moto's reset wipes it with everything else.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import threading
from typing import Any

from moto.core.utils import utcnow

from airflow_provider_shadowtest.testing import rules
from airflow_provider_shadowtest.testing.settings import current_settings

_STORE_ATTR = "_shadowtest_experiments"
_LOCK_ATTR = "_shadowtest_lock"
_DELETED_ATTR = "_shadowtest_deleted"
_guard = threading.Lock()


def now() -> dt.datetime:
    """The emulator's clock: naive UTC."""
    return utcnow()


def transition() -> dt.timedelta:
    return dt.timedelta(seconds=current_settings().transition_seconds)


@dataclasses.dataclass
class Experiment:
    """One inference experiment; times are naive UTC."""

    name: str
    arn: str
    type: str
    role_arn: str
    endpoint_name: str
    model_variants: list[dict[str, Any]]
    shadow_mode_config: dict[str, Any]
    start_time: dt.datetime
    end_time: dt.datetime
    creation_time: dt.datetime
    last_modified_time: dt.datetime
    description: str | None = None
    data_storage_config: dict[str, Any] | None = None
    kms_key: str | None = None
    tags: list[dict[str, str]] = dataclasses.field(default_factory=list)
    #: when Start was called (the schedule's start is then this time)
    started_at: dt.datetime | None = None
    updating_until: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    stop_state: str | None = None
    status_reason: str | None = None
    variant_actions: dict[str, str] = dataclasses.field(default_factory=dict)
    #: durations of the transitional statuses, fixed when the transition begins
    creating_seconds: float = 1.0
    starting_seconds: float = 1.0
    stopping_seconds: float = 1.0

    # -- roles -----------------------------------------------------------------------------------
    @property
    def source_variant(self) -> str:
        return str(self.shadow_mode_config["SourceModelVariantName"])

    @property
    def shadow_variant(self) -> str:
        return str(self.shadow_mode_config["ShadowModelVariants"][0]["ShadowModelVariantName"])

    @property
    def sampling_percent(self) -> int:
        return int(self.shadow_mode_config["ShadowModelVariants"][0]["SamplingPercentage"])

    def variant(self, name: str) -> dict[str, Any] | None:
        return next((v for v in self.model_variants if v["VariantName"] == name), None)

    # -- the clock -------------------------------------------------------------------------------
    @property
    def created_at(self) -> dt.datetime:
        """When Creating ends."""
        return self.creation_time + dt.timedelta(seconds=self.creating_seconds)

    def starting_at(self) -> dt.datetime:
        """When Starting begins (start time, but never before creation finished)."""
        return max(self.start_time, self.created_at)

    def running_at(self) -> dt.datetime:
        return self.starting_at() + dt.timedelta(seconds=self.starting_seconds)

    def stopping_until(self) -> dt.datetime | None:
        if self.stopped_at is None:
            return None
        return self.stopped_at + dt.timedelta(seconds=self.stopping_seconds)

    def finished_at(self) -> dt.datetime | None:
        """When the experiment reached Completed or Cancelled (or will), if it is decided."""
        return self.stopping_until() or self.end_time

    def status(self, at: dt.datetime | None = None) -> str:
        t = at or now()
        stopping_until = self.stopping_until()
        if stopping_until is not None:
            if t < stopping_until:
                return rules.STOPPING
            return self.stop_state or rules.COMPLETED
        if t < self.created_at:
            return rules.CREATING
        if self.updating_until is not None and t < self.updating_until:
            return rules.UPDATING
        if t >= self.end_time:
            return rules.COMPLETED
        if t < self.starting_at():
            return rules.CREATED
        if t < self.running_at():
            return rules.STARTING
        return rules.RUNNING

    def has_run(self, at: dt.datetime | None = None) -> bool:
        """True when the experiment reached Running at some point before ``at``."""
        t = at or now()
        end = self.stopped_at if self.stopped_at is not None else self.end_time
        return self.running_at() <= min(t, end)

    def mirroring(self, at: dt.datetime | None = None) -> bool:
        """True while the shadow variant is deployed on the endpoint (Starting to Stopping)."""
        t = at or now()
        status = self.status(t)
        if status in (rules.STARTING, rules.RUNNING):
            return True
        return status == rules.UPDATING and t >= self.starting_at()

    def traffic_end(self, at: dt.datetime | None = None) -> dt.datetime:
        """The end of the window in which traffic was mirrored (now while running)."""
        t = at or now()
        end = self.stopped_at if self.stopped_at is not None else self.end_time
        return min(t, end)

    def completion_time(self, at: dt.datetime | None = None) -> dt.datetime | None:
        status = self.status(at)
        if status in rules.TERMINAL:
            return self.finished_at()
        return None

    def variant_status(self, variant_name: str, at: dt.datetime | None = None) -> str:
        status = self.status(at)
        action = self.variant_actions.get(variant_name)
        if status == rules.CREATING:
            return rules.VARIANT_CREATING
        if status == rules.UPDATING:
            return rules.VARIANT_UPDATING
        if status == rules.STOPPING:
            return {"Remove": rules.VARIANT_DELETING, "Promote": rules.VARIANT_UPDATING}.get(
                action or "", rules.VARIANT_IN_SERVICE
            )
        if status in rules.TERMINAL:
            if self.stopped_at is None:
                # the schedule ended: the shadow variant is gone, production serves as before
                return rules.VARIANT_DELETED if variant_name == self.shadow_variant else rules.VARIANT_IN_SERVICE
            return rules.VARIANT_DELETED if action == "Remove" else rules.VARIANT_IN_SERVICE
        return rules.VARIANT_IN_SERVICE

    def snapshot(self) -> Experiment:
        return copy.deepcopy(self)


def experiments(backend: Any) -> dict[str, Experiment]:
    """The experiments of one moto SageMaker backend (account and region), by name."""
    store = getattr(backend, _STORE_ATTR, None)
    if store is None:
        with _guard:
            store = getattr(backend, _STORE_ATTR, None)
            if store is None:
                store = {}
                setattr(backend, _STORE_ATTR, store)
                setattr(backend, _LOCK_ATTR, threading.RLock())
                setattr(backend, _DELETED_ATTR, [])
    return store


def deleted_experiments(backend: Any) -> list[Experiment]:
    """Snapshots of deleted experiments that ran: CloudWatch keeps their metrics after Delete.

    Kept on the backend, so moto's reset wipes them too. Change under :func:`lock_of`.
    """
    experiments(backend)
    deleted: list[Experiment] = getattr(backend, _DELETED_ATTR)
    return deleted


def lock_of(backend: Any) -> threading.RLock:
    """The lock serialising experiment changes on one backend."""
    experiments(backend)
    lock: threading.RLock = getattr(backend, _LOCK_ATTR)
    return lock
