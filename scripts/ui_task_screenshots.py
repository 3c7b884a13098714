"""Screenshots of what a person meets around a run: the trigger form and the evaluate task's verdict.

Runs the promotion example against the emulator, starts ``airflow api-server`` with Simple auth on
the same metadata DB, signs in through Airflow's login form in headless Chromium and saves:

- ``docs/images/trigger-form-promotion.png``: the trigger form of ``example_shadow_test_promotion``;
- ``docs/images/evaluate-task-verdict.png``: the evaluate task's Rendered Templates, with the verdict.

    PYTHONPATH=. python -m scripts.ui_task_screenshots [--out docs/images]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from scripts._browser import Browser, chromium_path
from scripts._ui_support import Deployment, log_in, open_trigger_form, task_page_path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    if chromium_path() is None:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    written = []
    with tempfile.TemporaryDirectory(prefix="shadowtest-task-screens-") as work:
        deployment = Deployment(Path(work))
        try:
            print("running the promotion example...")
            deployment.run_pipeline()
            server = deployment.start_server()
            with Browser(width=1400, height=1800) as browser:
                log_in(browser, server, "/dags/example_shadow_test_promotion")
                open_trigger_form(browser, server)
                written.append(args.out / "trigger-form-promotion.png")
                browser.screenshot(written[-1], full_page=False)
            with Browser(width=1800, height=1000) as browser:
                log_in(browser, server, "/dags/example_shadow_test_promotion")
                browser.open(server.url + task_page_path(deployment.home, "evaluate", "rendered_templates"))
                browser.wait_for(
                    "[...document.querySelectorAll('tr')].some(r => r.innerText.startsWith('verdict_summary'))",
                    timeout_seconds=60,
                )
                browser.evaluate(
                    "[...document.querySelectorAll('tr')].find(r => r.innerText.startsWith('verdict_summary'))"
                    ".scrollIntoView({block: 'start'})"
                )
                written.append(args.out / "evaluate-task-verdict.png")
                browser.screenshot(written[-1], full_page=False)
        finally:
            deployment.stop()
    for image in written:
        shown = image.relative_to(ROOT) if image.is_relative_to(ROOT) else image
        print(f"wrote {shown} ({image.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
