"""Importing the pure core stays cheap: DAG files are parsed every 30 s."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys, time
start = time.perf_counter()
import airflow_provider_shadowtest.experiment
elapsed = time.perf_counter() - start
heavy = sorted(m for m in ("botocore", "boto3", "airflow", "moto", "pendulum") if m in sys.modules)
print(heavy, elapsed)
"""


def test_importing_the_package_loads_no_aws_or_airflow_module() -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    heavy, elapsed = result.stdout.rsplit(" ", 1)
    assert heavy == "[]"
    # Generous bound for loaded CI machines; typically ~30 ms.
    assert float(elapsed) < 0.5


def test_botocore_loads_on_first_validation() -> None:
    probe = (
        "import sys\n"
        "from airflow_provider_shadowtest.experiment import validate_create_request\n"
        "assert 'botocore' not in sys.modules\n"
        "validate_create_request({})\n"
        "assert 'botocore' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
