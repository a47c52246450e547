"""`aizen import`: the command-line side (file, progress bar, JSON summary, the bad lines or what an
interrupted import wrote)."""

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from aizen.importing.lines import ImportRejected
from aizen.importing.service import ImportInterrupted, import_events


def _lines(stream: TextIO) -> Iterator[str]:
    yield from stream


def run_import(site_id: str, file: str, *, progress: bool | None = None) -> int:
    show = sys.stderr.isatty() if progress is None else progress
    with ExitStack() as stack:
        if file == "-":
            stream: TextIO = sys.stdin
        else:
            path = Path(file)
            if not path.is_file():
                print(json.dumps({"error": {"code": "not_found", "message": f"{file}: no such file"}}), file=sys.stderr)
                return 1
            stream = stack.enter_context(path.open(encoding="utf-8"))
        lines: Iterator[str] = _lines(stream)
        if show:
            reading: tqdm[str] = tqdm(lines, desc="validating", unit=" lines", file=sys.stderr)
            stack.callback(reading.close)
            lines = iter(reading)
        bar: tqdm[int] | None = None

        def validated(total: int) -> None:
            nonlocal bar
            if show:
                writing: tqdm[int] = tqdm(total=total, desc="writing", unit=" events", file=sys.stderr)  # type: ignore[assignment]
                stack.callback(writing.close)
                bar = writing

        def written(count: int) -> None:
            if bar is not None:
                bar.update(count)

        failure: dict[str, Any] | None = None
        try:
            summary = import_events(site_id, lines, on_validated=validated, on_written=written)
        except ImportRejected as rejected:
            failure = {
                "code": rejected.code,
                "message": rejected.message,
                "bad_lines": [{"line": bad.line, "reason": bad.reason} for bad in rejected.bad_lines],
            }
        except ImportInterrupted as interrupted:
            # DynamoDB stopped it part-way: say what is in, and that re-running the file is safe
            failure = {
                "code": interrupted.code,
                "message": interrupted.message,
                "written": interrupted.progress.as_dict(),
                "safe_to_rerun": True,
            }
    # after the progress bars are closed, so the error is the last thing on stderr
    if failure is not None:
        print(json.dumps({"error": failure}, indent=2, ensure_ascii=False), file=sys.stderr)
        return 1
    print(json.dumps(summary.as_dict(), indent=2))
    return 0
