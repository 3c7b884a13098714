"""The plugin is found by Airflow both ways it can be, and never twice."""

from __future__ import annotations

import importlib

import pytest

from airflow_provider_shadowtest.get_provider_info import get_provider_info
from airflow_provider_shadowtest.plugins import shadow_tests


def test_the_provider_metadata_names_the_plugin_class() -> None:
    (entry,) = get_provider_info()["plugins"]
    module, _, name = entry["plugin-class"].rpartition(".")
    plugin = getattr(importlib.import_module(module), name)
    assert plugin is shadow_tests.ShadowTestsPlugin
    assert "airflow_provider_shadowtest.links.report.ShadowTestReportLink" in get_provider_info()["extra-links"]


def test_the_plugin_mounts_the_page_and_adds_a_navigation_entry() -> None:
    from airflow._shared.plugins_manager import is_valid_plugin

    plugin = shadow_tests.ShadowTestsPlugin
    assert is_valid_plugin(plugin)
    (app,) = plugin.fastapi_apps
    assert app["url_prefix"] == "/shadowtest"
    (view,) = plugin.external_views
    assert view["destination"] == "nav"
    assert view["href"] == "/shadowtest/"


@pytest.mark.parametrize(("lazy", "registered"), [("True", True), ("False", False)])
def test_the_entry_point_registers_only_when_provider_plugins_are_not_read(
    monkeypatch: pytest.MonkeyPatch, lazy: str, registered: bool
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS", lazy)
    found = shadow_tests._entry_point_plugin()
    assert (found is shadow_tests.ShadowTestsPlugin) is registered
    assert registered or found is None


def test_loading_the_plugin_does_not_build_the_app() -> None:
    """Every Airflow component loads plugins; only the api-server should pay for FastAPI's app."""
    lazy = shadow_tests.ShadowTestsPlugin.fastapi_apps[0]["app"]
    assert isinstance(lazy, shadow_tests.LazyShadowTestsApp)
    assert lazy._app is None
