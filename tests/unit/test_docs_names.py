"""Every module, function, test and file that README.md and docs/*.md name in backticks exists,
so the docs cannot go stale silently when code moves."""

import ast
import importlib
import importlib.util
import re
import subprocess
from functools import cache
from pathlib import Path

import moto
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Where a relative path in the docs may start (besides the document's own folder): the
# repository, the layer, the local stack, the benchmarks, and the installed packages (moto's
# source files, which docs/local-store.md names for moto's maintainers).
PATH_ROOTS = (ROOT, ROOT / "layers" / "aizen", ROOT / "local", ROOT / "bench", Path(moto.__file__).parents[1])
# Names in backticks that look like code or files of this repository but are not.
NOT_IN_THE_REPOSITORY = {
    ".aizen/local-stack.json",  # written by `aizen serve` while it runs
    "env.json",  # the operator's own file for `sam local start-api` (git-ignored)
    "endpoints.json",  # botocore's data files, pruned from the layer
    "partitions.json",
    ".venv/bin/aizen",  # made by `make install`
    ".venv/bin/python",
}
_CODE_ROOTS = ("aizen.", "aizen_local.")
_PATH = re.compile(r"^[\w.-]+(/[\w.-]+)*(/|\.(py|md|json|yaml|yml|toml|txt|ini|cfg))$")
_TEST_ID = re.compile(r"^(?P<file>tests/[\w/]+\.py)?::(?P<name>\w+)(\[.*\])?$")


def _spans(text: str) -> list[str]:
    """Inline code spans, fenced blocks left out."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return re.findall(r"`([^`\n]+)`", prose)


def _references() -> list[tuple[str, str]]:
    """(document, reference): test ids (a bare `::name` continues the last file named) and the rest."""
    found: list[tuple[str, str]] = []
    for document in DOCS:
        last_file = ""
        for span in _spans(document.read_text(encoding="utf-8")):
            test = _TEST_ID.match(span)
            if test:
                last_file = test["file"] or last_file
                found.append((document.name, f"{last_file}::{test['name']}"))
            elif span.startswith(_CODE_ROOTS) or _PATH.match(span):
                found.append((document.name, span))
    return found


@cache
def _definitions(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    definitions = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef  # test classes too
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, definitions))


def _missing(reference: str, folder: Path = ROOT) -> str | None:
    """Why `reference` (in a document in `folder`) names nothing, or None when it exists."""
    if reference in NOT_IN_THE_REPOSITORY:
        return None
    if "::" in reference:
        file, name = reference.split("::")
        if not (ROOT / file).is_file():
            return f"no file {file}"
        return None if name in _definitions(ROOT / file) else f"no test {name} in {file}"
    if reference.startswith(_CODE_ROOTS) and not _PATH.match(reference):
        return _missing_code(reference.split("(")[0].rstrip("."))
    if any((root / reference).exists() for root in (folder, *PATH_ROOTS)):
        return None
    return "no such file"


def _missing_code(dotted: str) -> str | None:
    """The longest importable module prefix, then attributes down the rest."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            found = importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            continue
        target: object = importlib.import_module(module_name)
        for attribute in parts[split:]:
            if not hasattr(target, attribute):
                return f"{module_name} has no {'.'.join(parts[split:])}"
            target = getattr(target, attribute)
        return None
    return "no such module"


REFERENCES = _references()


def test_the_docs_name_code_and_files() -> None:
    # The extraction itself works: a few names the docs are known to use are found.
    assert {("stats.md", "aizen.query.service"), ("README.md", "docs/api.md")} <= set(REFERENCES)
    assert len(REFERENCES) > 200


@pytest.mark.parametrize(("document", "reference"), sorted(set(REFERENCES)))
def test_a_named_thing_exists(document: str, reference: str) -> None:
    folder = (ROOT / "docs") if document != "README.md" else ROOT
    assert _missing(reference, folder) is None, f"{document} names `{reference}`: {_missing(reference, folder)}"


@pytest.mark.parametrize(
    "reference",
    [
        "aizen.validation.parse_query",
        "aizen/query/params.py",
        "aizen.rollup.history",
        "tests/unit/test_periods.py::test_no_such_test",
        "tests/unit/test_nothing.py::test_x",
    ],
)
def test_a_stale_name_is_caught(reference: str) -> None:
    assert _missing(reference) is not None


def test_nothing_refers_to_the_product_contract_outside_the_repository() -> None:
    # The contract lives in docs/ (periods and counting in stats.md, errors, auth and limits in api.md…)
    outside = ("DESIGN" + ".md", "../" + "shared")
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = [
        name
        for name in files
        if (ROOT / name).is_file()
        and any(word in (ROOT / name).read_text(encoding="utf-8", errors="replace") for word in outside)
    ]
    assert found == []
