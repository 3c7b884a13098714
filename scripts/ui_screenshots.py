"""Make the README's screenshots the way the browser tests see the UI.

Runs the promotion example against the emulator (``observation_seconds`` long, so the charts have
a few minutes), starts ``airflow api-server`` with Simple auth on the same metadata DB, signs in
through Airflow's login form in headless Chromium and saves:

- ``docs/images/shadow-tests-page.png``: the "Shadow tests" page inside Airflow's UI;
- ``docs/images/shadow-test-report.png``: that run's report (light);
- ``docs/images/shadow-test-report-7-days-dark.png``: a report rendered from a synthetic 7-day
  verdict at 5 requests/s (``tests/verdict/report_data.py``), in dark mode.

    PYTHONPATH=. python -m scripts.ui_screenshots [--out docs/images] [--observation-seconds 150]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from scripts._browser import Browser, BrowserError, chromium_path
from scripts._ui_support import PIPELINE, Deployment, log_in

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--observation-seconds", type=int, default=150)
    args = parser.parse_args()
    if chromium_path() is None:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="shadowtest-screens-") as work:
        deployment = Deployment(Path(work))
        try:
            print(f"running the promotion example ({args.observation_seconds} s of shadow traffic)...")
            deployment.run_pipeline(dataclasses.replace(PIPELINE, observation_seconds=args.observation_seconds))
            server = deployment.start_server()
            name = deployment.verdict["experiment_name"]
            with Browser(width=1400, height=760) as browser:
                log_in(browser, server, "/shadowtest/")
                browser.open(f"{server.url}/plugin/shadow-tests")
                framed = "document.querySelector('iframe')?.contentDocument"
                try:
                    browser.wait_for(f"!!{framed}?.querySelector('tr[data-experiment]')", timeout_seconds=90)
                except BrowserError:
                    print(browser.evaluate(f"{framed}?.body?.innerText ?? 'no frame'"), file=sys.stderr)
                    browser.screenshot(args.out / "failed-page.png", full_page=False)
                    raise
                browser.screenshot(args.out / "shadow-tests-page.png", full_page=False)
                browser.open(f"{server.url}/shadowtest/experiments/{name}")
                src = browser.wait_for("document.querySelector('iframe.report')?.getAttribute('src')")
                browser.open(f"{server.url}{src}")
                browser.wait_for("document.querySelectorAll('figure.chart').length > 0")
                browser.screenshot(args.out / "shadow-test-report.png")
        finally:
            deployment.stop()
        synthetic = Path(work) / "report-7-days.html"
        sys.path.insert(0, str(ROOT))
        from airflow_provider_shadowtest.verdict.html_report import render_html_report
        from tests.verdict.report_data import synthetic_verdict

        synthetic.write_text(render_html_report(synthetic_verdict(7 * 24 * 60)), encoding="utf-8")
        with Browser(width=1400, height=1500, dark=True) as browser:
            browser.open(synthetic.as_uri())
            browser.screenshot(args.out / "shadow-test-report-7-days-dark.png", full_page=False)
    for image in sorted(args.out.glob("shadow-test*.png")):
        print(
            f"wrote {image.relative_to(ROOT) if image.is_relative_to(ROOT) else image} ({image.stat().st_size:,} bytes)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
