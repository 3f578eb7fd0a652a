"""Experiments: tasks, grids and the runner that trains every zoo variant on every task."""
