"""The one error every registry of the project raises for a name it does not know."""

from __future__ import annotations

import difflib
from typing import Iterable


def unknown_name(kind: str, name, valid: Iterable[str], *, plural: str | None = None, error=ValueError,
                 suggest_from: Iterable[str] | None = None, match: str | None = None) -> Exception:
    """`error("unknown <kind> 'x'. Did you mean 'y'? Valid <plural>: a, b, c.")`, to be raised.

    `suggest_from` widens the names close matches are drawn from (e.g. aliases); `match` is the
    form of `name` to compare (e.g. lower-cased)."""
    valid = sorted(valid)
    close = difflib.get_close_matches(match or str(name), list(suggest_from or valid), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return error(f"unknown {kind} {name!r}.{hint} Valid {plural or kind + 's'}: {', '.join(valid)}.")
