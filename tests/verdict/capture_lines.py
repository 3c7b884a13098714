"""Build SageMaker data-capture lines for tests."""

from __future__ import annotations

import base64
import json
from typing import Any


def capture_line(
    seconds: int,
    request: str,
    response: str,
    *,
    event_id: str = "e",
    inference_id: str | None = None,
    encoding: str = "JSON",
    day: str = "2030-01-06",
) -> str:
    """One capture record at ``day`` + ``seconds`` (UTC) with a CSV request and ``response`` body."""
    data = base64.b64encode(response.encode()).decode() if encoding == "BASE64" else response
    metadata: dict[str, Any] = {
        "eventId": event_id,
        "inferenceTime": f"{day}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z",
    }
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": request,
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                    "data": data,
                    "encoding": encoding,
                },
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }
    )
