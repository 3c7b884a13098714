"""Browser tests drive a real api-server and Chromium; the harness is ``scripts/_demo_support.py``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``scripts`` is imported as a namespace package from the repository root
    sys.path.insert(0, str(ROOT))
