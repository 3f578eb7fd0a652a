"""Where results, stores and reports live, and how a report names them: the folders and URLs the
runner, the store, the artifacts and the reports share.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["default_results_dir", "default_storage_url", "check_writable", "mask_url", "shown_path", "shown_url"]


def default_results_dir() -> Path:
    """`$RNNZOO_RESULTS`, else `results/` in the project folder."""
    root = os.environ.get("RNNZOO_RESULTS")
    return Path(root) if root else Path(__file__).resolve().parents[1] / "results"


def default_storage_url(results_dir: Path | None = None) -> str:
    """`$RNNZOO_STORAGE` (e.g. a PostgreSQL URL with its password, kept out of files and command
    lines), else the SQLite file `store.db` in the results folder."""
    return os.environ.get("RNNZOO_STORAGE") or f"sqlite:///{(results_dir or default_results_dir()) / 'store.db'}"


def check_writable(folder: Path, what: str) -> Path:
    """`folder` made if needed and written to once; a ValueError naming it otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"cannot write {what} to {folder}: {error.strerror or error}; "
                         "give a folder you can write to") from None
    return folder


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for messages and reports."""
    return re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", str(url))


def shown_path(path) -> str:
    """A path as a report shows it: relative to the working folder when inside it (a report
    written in a checkout names no folder of the machine it ran on)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def shown_url(url: str) -> str:
    """The store URL for a report: its password masked, a SQLite file relative to the working folder."""
    url = mask_url(url)
    if url.startswith("sqlite:///"):
        return "sqlite:///" + shown_path(url[len("sqlite:///"):])
    return url
