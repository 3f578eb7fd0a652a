"""The documentation: it builds with warnings as errors, names every module, keeps its generated
tables in step with the code, and its examples run."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "zoo.layers.Recurrent" in api and "zoo.decoding.generate" in api  # the docstrings made it in


def test_the_layout_page_names_every_module():
    layout = (DOCS / "layout.md").read_text()
    modules = [p.relative_to(ROOT).as_posix() for folder in ("zoo", "experiments") for p in (ROOT / folder).rglob("*.py")]
    missing = [m for m in modules if f"`{m}`" not in layout]
    assert not missing, f"docs/layout.md does not name {missing}"


def test_the_readme_stays_short_and_links_to_pages_that_exist():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).is_file(), link


def test_the_settings_table_is_the_settings():
    from experiments.settings import settings_markdown

    text = (DOCS / "settings.md").read_text()
    start = text.index("<!-- settings:")
    table = text[text.index("\n", start) + 1:text.index("<!-- end of settings -->")].strip()
    assert table == settings_markdown(), "regenerate it: python -m experiments settings --markdown"


@pytest.mark.backend
def test_the_zoo_page_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "zoo.md").read_text(), flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "docs/zoo.md", "exec"), {})
