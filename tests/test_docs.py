"""The README and docs/ as a newcomer uses them: the README's task example runs as written, every
documented `run_benchmark.py` command parses, examples write to their own results folders, and
every file and test the pages name exists."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import build_parser
from harness.registry import discover_specs

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"```(?:bash|shell|sh)\n(.*?)```", re.S)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
REPO_PATH = re.compile(r"\b(?:benchmarks|tests|harness|tasks|references|docs)/[\w./-]*\w\.(?:py|yaml|md|png|json)\b")
TEST_NAME = re.compile(r"(?:tests/)?(test_\w+\.py)(?:::(\w+))?|::(\w+)")


def commands(text: str) -> list[str]:
    """Shell lines of the fenced bash blocks (continuations joined) and code spans that are commands."""
    lines = [line for block in SHELL_BLOCK.findall(text) for line in block.replace("\\\n", " ").splitlines()]
    return lines + [span for span in CODE_SPAN.findall(text) if span.startswith("python ")]


def harness_invocations(line: str) -> list[list[str]]:
    """The argument lists given to `run_benchmark.py` in one shell line."""
    words = shlex.split(line, comments=True)
    found, current = [], None
    redirected = False
    for word in words:
        if word in ("&&", "||", ";", "|"):
            current, redirected = None, False
        elif redirected or word.startswith((">", "2>", "<")):
            redirected = True  # a redirection target is not an argument
        elif word.endswith("run_benchmark.py"):
            current = []
            found.append(current)
        elif current is not None:
            current.append(word)
    return found


DOCUMENTED = [(page.relative_to(REPO).as_posix(), args) for page in PAGES for line in commands(page.read_text())
              for args in harness_invocations(line) if "…" not in args]


def test_the_pages_name_commands() -> None:
    assert len(DOCUMENTED) >= 15 and {args[0] for _, args in DOCUMENTED} >= {"run", "list", "report", "compare", "reproduce", "cache"}


@pytest.mark.parametrize(("page", "args"), DOCUMENTED, ids=[f"{p}:{' '.join(a)[:60]}" for p, a in DOCUMENTED])
def test_every_documented_command_parses_and_keeps_to_its_own_folders(page: str, args: list[str]) -> None:
    try:
        parsed = build_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"{page}: `run_benchmark.py {' '.join(args)}` does not parse")
    if args == ["run"]:  # the README's main job: the default results and report
        return
    if parsed.command in ("run", "reproduce", "import-results"):
        assert "--results" in args, f"{page}: {' '.join(args)} writes into the default results/ (give it --results)"
    if parsed.command in ("run", "reproduce", "report") and not getattr(parsed, "no_report", False):
        assert "--out" in args, f"{page}: {' '.join(args)} writes into the default reports/ (give it --out)"


def test_every_path_and_test_the_pages_name_exists() -> None:
    missing = []
    for page in PAGES:
        text = page.read_text()
        code = "\n".join(CODE_SPAN.findall(text) + SHELL_BLOCK.findall(text))
        missing += [f"{page.name}: {path}" for path in REPO_PATH.findall(code) if not (REPO / path).exists()]
        current = None
        for match in TEST_NAME.finditer(code):
            file, name, continued = match.groups()
            if file:
                current = REPO / "tests" / file
                if not current.is_file():
                    missing.append(f"{page.name}: {file}")
                    continue
            name = name or continued
            if name and (current is None or not re.search(rf"^def {name}\(", current.read_text(), re.M)):
                missing.append(f"{page.name}: {current.name if current else '?'}::{name}")
    assert not missing, missing


@pytest.mark.slow  # a real model: ~17 s of CPU
def test_the_readme_task_example_runs_as_written(tmp_path: Path) -> None:
    """The README's first yaml block with `name:` and `type:` is a task of its own (no built-in has
    its name) on data every install has; the command after it runs it as written."""
    readme = (REPO / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if re.search(r"(?m)^name:", b) and re.search(r"(?m)^type:", b))
    name = re.search(r"(?m)^name: ([A-Za-z][\w-]*)\s*(?:#.*)?$", block).group(1)  # a plain, unquoted name
    assert name not in discover_specs(()), f"the README's example reuses the built-in task name {name}"
    after = readme[readme.index(block):]
    line = next(line for line in commands(after) if "--task-dir" in line)
    args = harness_invocations(line)[0]
    folder, results = args[args.index("--task-dir") + 1], args[args.index("--results") + 1]
    assert args[args.index("--tasks") + 1] == name and f"`{folder}/{name}.yaml`" in after
    (tmp_path / folder).mkdir()
    (tmp_path / folder / f"{name}.yaml").write_text(block)
    done = subprocess.run([sys.executable, str(REPO / "run_benchmark.py"), *args], cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    stored = list((tmp_path / results).glob(f"*/*/{name}.json"))
    assert len(stored) == 1 and f"× {name}: cosine_spearman = " in done.stderr
