"""`python -m zoo.bench`: every variant's training step and inference pass, timed side by side.

For each shape (batch, steps, input features, units), every variant gets a tiny model
(recurrent layer -> Dense(1), MSE, Adam). After warm-up the variants are timed in turns, one
step each per round in a shuffled order, so that machine noise hits all alike. Times are medians
over rounds; a ratio to the built-in `lstm` is the median over rounds of the variant's time over
lstm's time in the same round, with its lowest and highest round. Also reported:

- achieved FLOP/s of the recurrence (input and recurrent matmuls of every step; 3x forward for
  a training step) against one plain matrix multiply doing the LSTM's matmul work of all steps
  at once, timed in the same run: the practical limit of the device for this work;
- the slowest timed step over the median: a step that retraced or recompiled after warm-up
  takes many times the median (flagged above 3x);
- peak device memory where the backend reports it (JAX on a GPU).

Results: `reports/bench/bench-<backend>.csv`, `bench-<backend>.md`, `step_time_vs_length-<backend>.png`,
and the table on stdout. `KERAS_BACKEND=jax python -m zoo.bench` benchmarks the JAX backend.

The package: `timing` builds and times the models, `targets` reads the ratios against the
targets, `output` writes the tables and the plot, `cli` is the command line.
"""

from zoo.bench.cli import DEFAULT_OUT, main, parse_shape
from zoo.bench.targets import target_for, target_lines
from zoo.bench.timing import DEFAULT_SHAPES, REFERENCE_SHAPE, Entry, bench_shape, entries_for, paired_ratio

__all__ = ["main", "parse_shape", "bench_shape", "entries_for", "paired_ratio", "target_for", "target_lines",
           "Entry", "REFERENCE_SHAPE", "DEFAULT_SHAPES", "DEFAULT_OUT"]
