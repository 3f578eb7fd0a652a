"""A quiet start for the project's command lines (not the library: `import zoo` leaves the
process's output alone): the backend is imported without its start-up notices.

TensorFlow prints a few lines from C++ while it is imported, before its logging can be set
("oneDNN custom operations are on", "Could not find cuda drivers", "absl::InitializeLog");
`TF_CPP_MIN_LOG_LEVEL` does not reach them. `quiet_import_keras` captures the process's
stderr while Keras and its backend load and writes back every line that is not one of those
notices, so a real error still shows.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

NOTICES = re.compile(r"oneDNN custom operations|Could not find cuda drivers|absl::InitializeLog|"
                     r"failed call to cuInit|cpu_feature_guard|rebuild TensorFlow with the appropriate compiler|"
                     r"To enable the following instructions|TF-TRT Warning|Unable to register cu(DNN|FFT|BLAS) factory|"
                     r"computation placer already registered|This TensorFlow binary is optimized")


@contextlib.contextmanager
def quiet_stderr():
    """Capture file descriptor 2 (C++ output included) and write back all but the known notices."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", errors="replace").splitlines():
                if line.strip() and not NOTICES.search(line):
                    print(line, file=sys.stderr)


def quiet_import_keras():
    """Import Keras and its backend without the backend's start-up notices (each command line does, first)."""
    with quiet_stderr():
        import keras
    return keras
