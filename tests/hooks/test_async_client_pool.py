"""The per-event-loop pool: one session per settings key, one shared client per burst of Describes."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_shadowtest.connection import ConnectionSettings
from airflow_provider_shadowtest.hooks.async_client_pool import (
    SageMakerClientPool,
    client_pool,
    set_client_pool,
)
from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_shadowtest.testing import EmulatorServer

pytestmark = pytest.mark.timeout(60)

SETTINGS = ConnectionSettings()


# -- an instrumented stand-in for the hook, its session and its clients --------------------------
class FakeClient:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False


class Factory:
    """Counts hooks, sessions and clients; can fail or stall client creation."""

    def __init__(self) -> None:
        self.hooks: list[ConnectionSettings] = []
        self.sessions: list[FakeSession] = []
        self.opened: list[FakeClient] = []
        self.closed: list[FakeClient] = []
        self.fail_client_creations = 0
        self.fail_session_builds = 0

    def hook(self, settings: ConnectionSettings) -> FakeHook:
        self.hooks.append(settings)
        return FakeHook(self, settings)

    def open_now(self) -> int:
        return len(self.opened) - len(self.closed)


class FakeHook:
    def __init__(self, factory: Factory, settings: ConnectionSettings) -> None:
        self.factory = factory
        self.region_name = settings.region_name or "us-east-1"

    def async_client_arguments(self) -> tuple[FakeSession, dict[str, Any]]:
        if self.factory.fail_session_builds:
            self.factory.fail_session_builds -= 1
            raise RuntimeError("no such connection")
        session = FakeSession(self.factory, self.region_name)
        self.factory.sessions.append(session)
        return session, {"endpoint_url": "https://sagemaker.example", "config": "config", "verify": None}


class FakeSession:
    def __init__(self, factory: Factory, region_name: str | None) -> None:
        self.factory = factory
        self.region_name = region_name
        self.create_client_calls: list[tuple[str, dict[str, Any]]] = []

    def create_client(self, service_name: str, **kwargs: Any) -> FakeContext:
        self.create_client_calls.append((service_name, kwargs))
        return FakeContext(self.factory)


class FakeContext:
    def __init__(self, factory: Factory) -> None:
        self.factory = factory
        self.client: FakeClient | None = None

    async def __aenter__(self) -> FakeClient:
        for _ in range(3):  # yield to the loop, as aiobotocore does, so other users arrive meanwhile
            await asyncio.sleep(0)
        if self.factory.fail_client_creations:
            self.factory.fail_client_creations -= 1
            raise ValueError("bad endpoint")
        self.client = FakeClient(len(self.factory.opened))
        self.factory.opened.append(self.client)
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0)
        assert self.client is not None
        self.client.closed = True
        self.factory.closed.append(self.client)


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def pool(factory: Factory) -> SageMakerClientPool:
    return SageMakerClientPool(factory.hook)


USERS_INSIDE = [0]


async def use(pool: SageMakerClientPool, settings: ConnectionSettings, inside: asyncio.Event | None = None) -> Any:
    async with pool.client(settings) as client:
        USERS_INSIDE[0] += 1
        try:
            if inside is not None:
                await inside.wait()
            return client
        finally:
            USERS_INSIDE[0] -= 1


async def all_inside(count: int) -> None:
    while USERS_INSIDE[0] < count:
        await asyncio.sleep(0)


# -- the pool -----------------------------------------------------------------------------------
async def test_concurrent_users_share_one_client_closed_by_the_last(
    pool: SageMakerClientPool, factory: Factory
) -> None:
    release = asyncio.Event()
    tasks = [asyncio.create_task(use(pool, SETTINGS, release)) for _ in range(50)]
    await all_inside(50)
    assert len(factory.opened) == 1
    assert pool.open_clients() == 1
    release.set()
    clients = await asyncio.gather(*tasks)
    assert {id(c) for c in clients} == {id(factory.opened[0])}
    await pool.aclose()
    assert factory.closed == factory.opened
    assert pool.open_clients() == 0
    assert len(factory.hooks) == 1
    assert len(factory.sessions) == 1


async def test_no_client_stays_open_between_uses_and_the_session_is_reused(
    pool: SageMakerClientPool, factory: Factory
) -> None:
    first = await use(pool, SETTINGS)
    await pool.aclose()
    assert first.closed
    assert pool.open_clients() == 0
    second = await use(pool, SETTINGS)
    await pool.aclose()
    assert second is not first
    assert second.closed
    assert len(factory.opened) == len(factory.closed) == 2
    assert len(factory.sessions) == 1
    assert pool.sessions_built == 1
    # the client is made as AwsGenericHook.get_client_type makes it
    assert factory.sessions[0].create_client_calls[0] == (
        "sagemaker",
        {"endpoint_url": "https://sagemaker.example", "config": "config", "verify": None},
    )


async def test_one_session_per_settings_key(pool: SageMakerClientPool, factory: Factory) -> None:
    config = ConnectionSettings(botocore_config={"read_timeout": 5, "connect_timeout": 2})
    reordered = ConnectionSettings(botocore_config={"connect_timeout": 2, "read_timeout": 5})
    assert config.key() == reordered.key()
    others = [
        replace(SETTINGS, aws_conn_id="other"),
        replace(SETTINGS, region_name="eu-west-1"),
        replace(SETTINGS, verify=False),
        replace(SETTINGS, max_attempts=2),
    ]
    release = asyncio.Event()
    tasks = [asyncio.create_task(use(pool, s, release)) for s in [config, reordered, *others, *others]]
    await all_inside(len(tasks))
    release.set()
    clients = await asyncio.gather(*tasks)
    await pool.aclose()
    assert clients[0] is clients[1]  # same key, same shared client
    assert clients[2 : 2 + len(others)] == clients[2 + len(others) :]
    assert len({id(c) for c in clients}) == 1 + len(others)
    assert len(factory.sessions) == pool.sessions_built == 1 + len(others)
    assert factory.hooks == [config, *others]  # each built from its own settings
    assert factory.sessions[2].region_name == "eu-west-1"
    assert factory.open_now() == 0


async def test_failed_client_creation_leaves_the_pool_usable(pool: SageMakerClientPool, factory: Factory) -> None:
    factory.fail_client_creations = 1
    results = await asyncio.gather(*(use(pool, SETTINGS) for _ in range(5)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1
    assert isinstance(failures[0], ValueError)
    await pool.aclose()
    assert pool.open_clients() == 0
    assert factory.open_now() == 0
    # the session is rebuilt after a failure (it may have been the cause); then it is reused
    assert pool.sessions_built == 2
    again = await use(pool, SETTINGS)
    await pool.aclose()
    assert again.closed
    assert pool.sessions_built == 2
    assert factory.open_now() == 0


async def test_failed_session_build_leaves_the_pool_usable(pool: SageMakerClientPool, factory: Factory) -> None:
    factory.fail_session_builds = 1
    with pytest.raises(RuntimeError, match="no such connection"):
        await use(pool, SETTINGS)
    assert pool.open_clients() == 0
    client = await use(pool, SETTINGS)
    await pool.aclose()
    assert client.closed
    assert len(factory.sessions) == 1


async def test_a_cancelled_user_releases_the_client(pool: SageMakerClientPool, factory: Factory) -> None:
    never = asyncio.Event()
    holder = asyncio.create_task(use(pool, SETTINGS, never))
    canceller = asyncio.create_task(use(pool, SETTINGS, never))
    await all_inside(2)
    canceller.cancel()
    await asyncio.gather(canceller, return_exceptions=True)
    assert pool.open_clients() == 1  # the holder still uses it
    holder.cancel()
    await asyncio.gather(holder, return_exceptions=True)
    await pool.aclose()
    assert pool.open_clients() == 0
    assert factory.closed == factory.opened


async def test_the_session_is_rebuilt_after_its_max_age(factory: Factory) -> None:
    now = [0.0]
    pool = SageMakerClientPool(factory.hook, session_max_age_seconds=60, clock=lambda: now[0])
    await use(pool, SETTINGS)
    now[0] = 59
    await use(pool, SETTINGS)
    assert pool.sessions_built == 1
    now[0] = 121
    await use(pool, SETTINGS)
    await pool.aclose()
    assert pool.sessions_built == 2


def test_one_pool_per_event_loop() -> None:
    async def get() -> tuple[SageMakerClientPool, SageMakerClientPool]:
        return client_pool(), client_pool()

    first = asyncio.run(get())
    second = asyncio.run(get())
    assert first[0] is first[1]
    assert second[0] is not first[0]


# -- the trigger through the pool, against the emulator -----------------------------------------
async def test_concurrent_triggers_share_the_session_and_close_their_clients(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    pool = SageMakerClientPool()
    set_client_pool(pool)
    names = [experiment(start_in=3600, end_in=7200)] * 8  # one experiment per endpoint: 8 waits on it
    before = emulator.stats().get("DescribeInferenceExperiment", 0)
    triggers = [InferenceExperimentTrigger(n, ["Running"], poke_interval=60) for n in names]

    async def consume(trigger: InferenceExperimentTrigger) -> None:
        async for _ in trigger.run():
            return

    tasks = [asyncio.create_task(consume(t)) for t in triggers]
    deadline = time.monotonic() + 30
    while emulator.stats().get("DescribeInferenceExperiment", 0) < before + len(names):
        assert time.monotonic() < deadline
        assert not any(t.done() for t in tasks)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    await pool.aclose()
    # all sleeping: no client open, one session for the shared settings
    assert pool.open_clients() == 0
    assert pool.sessions_built == 1
    assert 1 <= pool.clients_opened <= len(names)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_pooled_client_is_configured_like_the_hooks_client(emulator: EmulatorServer) -> None:
    settings = ConnectionSettings(botocore_config={"read_timeout": 7}, max_attempts=3)
    hook = settings.build_hook()
    async with await hook.get_async_conn() as expected:  # type: ignore[no-untyped-call]
        want = expected.meta
    pool = SageMakerClientPool()
    async with pool.client(settings) as client:
        got = client.meta
    await pool.aclose()
    assert got.endpoint_url == want.endpoint_url == emulator.url
    assert got.region_name == want.region_name
    assert got.config.read_timeout == want.config.read_timeout == 7
    assert got.config.retries == want.config.retries
    assert got.config.user_agent_extra == want.config.user_agent_extra


async def test_refreshed_credentials_keep_working(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An assumed role's credentials are refreshed by the cached session; Describes keep working."""

    extra = {
        "endpoint_url": emulator.url,
        "region_name": "us-east-1",
        "role_arn": "arn:aws:iam::123456789012:role/shadowtest",
        "service_config": {"sts": {"endpoint_url": emulator.url}},
        # moto's minimum: always inside botocore's refresh window, so every use refreshes
        "assume_role_kwargs": {"DurationSeconds": 900},
    }
    monkeypatch.setenv("AIRFLOW_CONN_AWS_ROLE", json.dumps({"conn_type": "aws", "extra": extra}))
    from airflow.providers.amazon.aws.hooks.base_aws import BaseSessionFactory

    refreshes: list[str] = []
    refresh = BaseSessionFactory._refresh_credentials

    def counting(factory: Any) -> dict[str, Any]:
        credentials: dict[str, Any] = refresh(factory)
        refreshes.append(credentials["access_key"])
        return credentials

    monkeypatch.setattr(BaseSessionFactory, "_refresh_credentials", counting)
    pool = SageMakerClientPool()
    settings = ConnectionSettings(aws_conn_id="aws_role")
    for _ in range(2):
        async with pool.client(settings) as client:
            response = await client.list_inference_experiments()
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    await pool.aclose()
    assert pool.sessions_built == 1
    assert len(refreshes) >= 2  # the initial credentials, then at least one refresh
