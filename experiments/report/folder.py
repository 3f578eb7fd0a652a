"""A report's folder: one per configuration of a grid or space, owned by the report and replaced
whole, so that no file of another configuration or of an earlier report is ever left beside it.

A report is written into a temporary folder beside its own and moved in only once it is
complete: a crash while writing leaves the earlier report as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from experiments.locations import check_writable
from experiments.planner import file_name

__all__ = ["configuration_name", "configuration_text", "check_report_folder", "report_folder", "MARKER"]

MARKER = ".rnnzoo-report"  # names the configuration; marks the folder as a report's own


def configuration_name(name: str, overrides: list[str] | None = None, only: str | None = None) -> str:
    """The report folder's name: the grid's (or space's) name for the configuration as declared,
    else the name with the `--set` and `--only` that make it: 'smoke--train.learning_rate-1e-5'."""
    parts = [*(overrides or []), *([f"only {only}"] if only else [])]
    if not parts:
        return name
    slug = file_name("+".join(part.replace(" ", "-") for part in parts))
    if len(slug) > 90:  # long configurations: a readable start and a hash of the whole
        slug = f"{slug[:80]}-{hashlib.sha1(slug.encode()).hexdigest()[:8]}"
    return f"{name}--{slug}"


def configuration_text(overrides: list[str] | None = None, only: str | None = None) -> str:
    """The configuration in words, for a report's header."""
    parts = [f"`--set {item}`" for item in overrides or []] + ([f"`--only {only}`"] if only else [])
    return ", ".join(parts) if parts else "as declared (no `--set`, no `--only`)"


def _is_report(folder: Path) -> bool:
    """A folder a report wrote: it has the marker, or (written before the marker existed) a
    report's README.md beside its runs.csv or index.html."""
    return (folder / MARKER).exists() or ((folder / "README.md").exists()
                                         and ((folder / "runs.csv").exists() or (folder / "index.html").exists()))


def check_report_folder(out: Path) -> Path:
    """`out` if a report may be written there: a new or empty folder, or one a report wrote,
    whose parent can be written to; a ValueError naming it otherwise. Cheap: called before the
    store is read."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _is_report(out))):
        raise ValueError(f"{out} holds files that no report wrote; a report replaces its folder whole, so give "
                         "--out a new or empty folder, or one that a report wrote")
    try:
        check_writable(out.parent, "the report")
    except ValueError as error:
        raise ValueError(f"cannot write the report to {out}: {str(error).split(': ', 1)[-1]}") from None
    return out


@contextlib.contextmanager
def report_folder(out: Path, configuration: dict) -> Iterator[Path]:
    """A new empty folder to write the report into; when the block ends without an error it
    replaces `out` whole. A folder that holds files no report wrote is refused (a ValueError
    naming it) before anything is written, so a user's files are never removed."""
    out = check_report_folder(out)
    temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.writing-", dir=out.parent))
    try:
        yield temporary
        (temporary / MARKER).write_text(json.dumps(configuration, indent=1) + "\n")
        previous = out.parent / f".{out.name}.previous-{os.getpid()}"
        if out.exists():
            out.rename(previous)
        temporary.rename(out)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
