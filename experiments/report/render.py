"""Turning the report's Markdown into files: formatting of numbers, HTML pages."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np


def fmt(value, digits=4) -> str:
    """A number for a table: 4 significant digits, thousands separators for integers, – for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def fmt_ratio(value) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}x"


def markdown_to_html(markdown: str) -> str:
    """CommonMark with tables (markdown-it-py); raw HTML in the text is escaped, not passed on."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)


def page(title: str, body_markdown: str) -> str:
    """A self-contained HTML page (opens offline) of the Markdown `body_markdown`."""
    style = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:14px}"
             "th,td{border:1px solid #ccc;padding:4px 8px}th{background:#f3f3f3}"
             "img{max-width:100%}code{background:#f5f5f5}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n{markdown_to_html(body_markdown)}\n</body></html>\n")


def write_markdown_and_html(folder: Path, stem: str, title: str, markdown: str) -> None:
    (folder / f"{stem}.md").write_text(markdown, encoding="utf-8")
    (folder / f"{stem}.html").write_text(page(title, markdown), encoding="utf-8")


def write_pages(folder: Path, title: str, markdown: str) -> None:
    """A report's front pages: `README.md` (renders on a code host) and `index.html` (opens offline)."""
    (folder / "README.md").write_text(markdown, encoding="utf-8")
    (folder / "index.html").write_text(page(title, markdown), encoding="utf-8")
