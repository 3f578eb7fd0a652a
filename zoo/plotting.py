"""The one plotting set-up of the project: Matplotlib without a screen (the Agg backend), and
the seaborn theme where a figure uses seaborn. Matplotlib is imported only when a figure is
drawn, so `import zoo` does not need it.

    >>> from zoo.plotting import pyplot
    >>> plt = pyplot()
"""

from __future__ import annotations

__all__ = ["pyplot", "seaborn"]


def pyplot():
    """`matplotlib.pyplot`, drawing to files (Agg) whatever the machine has for a screen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def seaborn(context: str = "notebook"):
    """seaborn with the reports' theme (white grid) set."""
    pyplot()
    import seaborn as sns

    sns.set_theme(style="whitegrid", context=context)
    return sns
