"""Parsing a DAG file must stay cheap: the operator and link modules do not load boto3 or botocore."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("boto3", "botocore", "aiobotocore", "moto")


def test_importing_operators_and_links_loads_no_aws_sdk() -> None:
    code = (
        "import json, sys\n"
        "import airflow_provider_shadowtest.operators.inference_experiment\n"
        "import airflow_provider_shadowtest.links.inference_experiment\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=dict(os.environ), capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
