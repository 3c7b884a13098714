"""The Airflow plugin: mounts the "Shadow tests" app at ``/shadowtest`` and adds it to the UI's navigation.

Registered twice on purpose, loaded once: Airflow 3.3 reads a provider's ``plugins`` metadata
(``get_provider_info``) only when ``[core] lazy_discover_providers`` is False (not the default),
while the ``airflow.plugins`` entry point is always read. :data:`entry_point_plugin` is the plugin
class when provider discovery is lazy and None otherwise (an entry point that is not a plugin
class is skipped), so the plugin never registers twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_shadowtest.links.report import URL_PREFIX

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]

PLUGIN_NAME: Final = "shadowtest"


class LazyShadowTestsApp:
    """An ASGI app that builds the FastAPI app on its first request.

    Plugins are loaded by every Airflow component (scheduler, workers, triggerer); only the
    api-server serves requests, so only it pays for FastAPI and Airflow's API security imports.
    """

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if self._app is None:
            from airflow_provider_shadowtest.plugins.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class ShadowTestsPlugin(AirflowPlugin):
    """The "Shadow tests" page: SageMaker inference experiments, their verdicts and reports."""

    name = PLUGIN_NAME
    fastapi_apps = [{"app": LazyShadowTestsApp(), "url_prefix": URL_PREFIX, "name": "Shadow tests"}]
    external_views = [
        {
            "name": "Shadow tests",
            "href": f"{URL_PREFIX}/",
            "url_route": "shadow-tests",
            "destination": "nav",
            "category": "browse",
        }
    ]


def _entry_point_plugin() -> type[ShadowTestsPlugin] | None:
    from airflow.configuration import conf

    lazy = conf.getboolean("core", "lazy_discover_providers", fallback=True)
    return ShadowTestsPlugin if lazy else None


#: What the ``airflow.plugins`` entry point names (see the module docstring).
entry_point_plugin = _entry_point_plugin()
