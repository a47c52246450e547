"""Keep only the named AWS services' data in the layer's botocore and boto3.

The layer's Makefile runs this after pip. botocore ships every service's model
(28 MB of a 50 MB layer), and every new client parses `endpoints.json` (1.25 MB,
the endpoint data of ~300 services in every partition) for its legacy endpoint
resolver. Only the services the functions call are kept: the zipped layer
shrinks from 27 MB to 10 MB, and creating the DynamoDB connection in a cold
request takes ~21 ms instead of ~59 ms (~39 ms with the models alone pruned;
`bench/bench_coldstart.py`, docs/performance.md).

    python3.13 prune_sdk.py <layer>/python dynamodb [service ...]
"""

import json
import shutil
import sys
from pathlib import Path


def prune_models(python_dir: Path, services: set[str]) -> None:
    """Remove the model directories of every other service from botocore/data and boto3/data."""
    for data in (python_dir / "botocore" / "data", python_dir / "boto3" / "data"):
        for entry in data.iterdir():
            if entry.is_dir() and entry.name not in services:
                shutil.rmtree(entry)


def prune_endpoints(endpoints_file: Path, services: set[str]) -> None:
    """Keep every partition's own data (regions, DNS suffix, defaults) and the named services' endpoints."""
    endpoints = json.loads(endpoints_file.read_text())
    partitions = endpoints["partitions"]
    missing = services - {name for partition in partitions for name in partition["services"]}
    if missing:
        raise SystemExit(f"{endpoints_file}: no endpoint data for {sorted(missing)}")
    for partition in partitions:
        partition["services"] = {name: service for name, service in partition["services"].items() if name in services}
    endpoints_file.write_text(json.dumps(endpoints, separators=(",", ":")))


def prune(python_dir: Path, services: set[str]) -> None:
    prune_models(python_dir, services)
    prune_endpoints(python_dir / "botocore" / "data" / "endpoints.json", services)


if __name__ == "__main__":
    prune(Path(sys.argv[1]), set(sys.argv[2:]))
