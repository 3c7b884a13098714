"""What the triggers of one event loop share: aiobotocore sessions and short-lived SageMaker clients.

Building a session (the Airflow connection, credential resolution) and a client (the SageMaker
service model, the client class) costs tens of milliseconds of CPU and hundreds of kilobytes,
and the triggerer may wake a thousand triggers at the same scheduled time. So, per event loop:

- one aiobotocore session per :class:`~airflow_provider_shadowtest.connection.ConnectionSettings`,
  built once through the hook (:meth:`InferenceExperimentHook.async_client_arguments`), in a thread,
  and rebuilt after :data:`SESSION_MAX_AGE_SECONDS` so an edited Airflow connection is picked
  up by a long-running triggerer; refreshable credentials refresh themselves in the session;
- at most one open client per key, shared by the triggers describing at the same moment: the
  first user opens it (under an :class:`asyncio.Lock`, so concurrent wake-ups build one), the
  last user closes it. When no trigger is mid-call, no client is open.

A failure while building the session or the client propagates to the caller and leaves the
pool usable: the user count is untouched, the lock is released and the session is rebuilt on
the next use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.connection import ConnectionSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

#: Seconds a cached session serves new clients before it is rebuilt from the Airflow connection.
SESSION_MAX_AGE_SECONDS = 900.0


class _Entry:
    """The session and the shared client of one settings key."""

    __slots__ = ("client", "client_kwargs", "closing", "exit", "lock", "session", "session_built_at", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.session: Any = None
        self.session_built_at = 0.0
        self.client_kwargs: dict[str, Any] = {}
        self.client: Any = None
        self.exit: Any = None  # the client context's __aexit__
        self.users = 0
        self.closing: set[asyncio.Task[None]] = set()


class SageMakerClientPool:
    """Per-event-loop sessions and reference-counted SageMaker clients, keyed by connection settings.

    :param hook_factory: builds the hook from connection settings (default:
        :meth:`ConnectionSettings.build_hook`); called in a thread.
    :param session_max_age_seconds: how long a session serves new clients before it is rebuilt.
    :param clock: monotonic clock, for tests.
    """

    def __init__(
        self,
        hook_factory: Callable[[ConnectionSettings], Any] | None = None,
        *,
        session_max_age_seconds: float = SESSION_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hook_factory = hook_factory or ConnectionSettings.build_hook
        self._session_max_age = session_max_age_seconds
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        #: sessions and clients built so far (for tests and benchmarks)
        self.sessions_built = 0
        self.clients_opened = 0

    def open_clients(self) -> int:
        """How many clients are open (or still closing) now."""
        return sum((entry.client is not None) + len(entry.closing) for entry in self._entries.values())

    @contextlib.asynccontextmanager
    async def client(self, settings: ConnectionSettings) -> AsyncIterator[Any]:
        """Lend the shared SageMaker client for ``settings``, opening it if no one holds it."""
        entry = self._entries.get(key := settings.key())
        if entry is None:
            entry = self._entries[key] = _Entry()
        if entry.client is None:
            async with entry.lock:
                if entry.client is None:  # nobody opened it while this waited for the lock
                    await self._open(entry, settings)
        # No await between the check above (or _open) and here: the client cannot have closed.
        client = entry.client
        entry.users += 1
        try:
            yield client
        finally:
            entry.users -= 1
            if entry.users == 0:
                self._close(entry)

    async def _open(self, entry: _Entry, settings: ConnectionSettings) -> None:
        try:
            if entry.session is None or self._clock() - entry.session_built_at > self._session_max_age:
                entry.session = None
                entry.session, entry.client_kwargs = await asyncio.to_thread(self._build_session, settings)
                entry.session_built_at = self._clock()
                self.sessions_built += 1
            context = entry.session.create_client("sagemaker", **entry.client_kwargs)
            client = await context.__aenter__()
        except Exception:
            entry.session = None  # rebuild from the connection next time: it may have been the cause
            raise
        entry.client, entry.exit = client, context.__aexit__
        self.clients_opened += 1

    def _build_session(self, settings: ConnectionSettings) -> tuple[Any, dict[str, Any]]:
        """Build the session and the client arguments through the hook (blocking: run in a thread)."""
        session, client_kwargs = self._hook_factory(settings).async_client_arguments()
        return session, dict(client_kwargs)

    def _close(self, entry: _Entry) -> None:
        """Detach the client now (synchronously) and close it in a task that a cancellation cannot stop."""
        exit_client, entry.client, entry.exit = entry.exit, None, None
        if exit_client is None:
            return
        task = asyncio.get_running_loop().create_task(exit_client(None, None, None))
        entry.closing.add(task)
        task.add_done_callback(entry.closing.discard)
        task.add_done_callback(_log_close_failure)

    async def aclose(self) -> None:
        """Wait for the clients being closed (for tests and clean shutdowns)."""
        tasks = [task for entry in self._entries.values() for task in entry.closing]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def _log_close_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logging.getLogger(__name__).warning("Closing a SageMaker client failed: %s", error)


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SageMakerClientPool] = weakref.WeakKeyDictionary()


def client_pool() -> SageMakerClientPool:
    """The pool of the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None:
        pool = _POOLS[loop] = SageMakerClientPool()
    return pool


def set_client_pool(pool: SageMakerClientPool) -> None:
    """Install ``pool`` for the running event loop (tests)."""
    _POOLS[asyncio.get_running_loop()] = pool
