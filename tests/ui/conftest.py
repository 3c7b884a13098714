"""Browser tests drive a real api-server and Chromium; the harness is ``scripts/_ui_support.py``.

Both browser modules look at one deployment: a promotion run (about 10 minutes: a continuous
verdict needs several judged minutes) and an api-server on its metadata DB, built once per
session. Under ``--dist loadgroup`` (``make unit-slow``) the modules share the ``ui-deployment``
group, so one worker runs them both, in file order: ``test_task_pages_browser.py`` first, then
``test_ui_browser.py``, whose last test stops the emulator.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``scripts`` is imported as a namespace package from the repository root
    sys.path.insert(0, str(ROOT))

from scripts._ui_support import Deployment  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The promotion example run against the emulator (a better candidate: PROMOTE), then the api-server."""
    deployed = Deployment(tmp_path_factory.mktemp("ui"))
    try:
        deployed.run_pipeline()
        assert deployed.verdict["decision"] == "PROMOTE", deployed.verdict.get("reasons")
        deployed.start_server()
        yield deployed
    finally:
        deployed.stop()
