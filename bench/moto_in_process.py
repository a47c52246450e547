"""Set-up shared by the benchmarks that run moto in their own process: the layer and the local
stack on the import path, fake credentials, and the bench tables' names in the settings.

Import it before any `aizen` module (settings are read from the environment once).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "aizen"), str(ROOT / "local")]
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AIZEN_MAIN_TABLE": "bench-main",
        "AIZEN_EVENTS_TABLE": "bench-events",
        "AIZEN_SALTS_TABLE": "bench-salts",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
