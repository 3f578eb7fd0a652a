"""`python -m zoo.bench` (its start is quiet: see `zoo/__init__.py`)."""

import sys

from zoo.bench.cli import main

sys.exit(main())
