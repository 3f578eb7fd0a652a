"""The README's example runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.backend
def test_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block.replace("/tmp/my_model.keras", str(tmp_path / "my_model.keras")), "README.md", "exec"), {})


def test_readme_variant_table_is_the_registry():
    """The README's variant table is generated from the registry (`python -m zoo list --markdown`)."""
    from zoo.registry import variants_markdown

    text = README.read_text()
    start = text.index("<!-- variants:")
    table = text[text.index("\n", start) + 1:text.index("<!-- end of variants -->")].strip()
    assert table == variants_markdown(), "regenerate it: python -m zoo list --markdown"
