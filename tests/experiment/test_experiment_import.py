"""Importing the pure core stays cheap: DAG files are parsed every 30 s."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
import airflow_provider_shadowtest.experiment
heavy = sorted(m for m in ("botocore", "boto3", "airflow", "moto", "pendulum") if m in sys.modules)
print(heavy)
"""


def test_importing_the_package_loads_no_aws_or_airflow_module() -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_botocore_loads_on_first_validation() -> None:
    probe = (
        "import sys\n"
        "from airflow_provider_shadowtest.experiment import validate_create_request\n"
        "assert 'botocore' not in sys.modules\n"
        "validate_create_request({})\n"
        "assert 'botocore' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
