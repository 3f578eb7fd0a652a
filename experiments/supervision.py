"""How the runner's processes look after each other and record where they ran: Ctrl-C and SIGTERM
(`Stop`), a worker that ends with its main process, the heartbeat's timing from the environment,
and the environment of a run's record.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["seconds_from_environment", "Stop", "watch_parent", "exit_description", "environment"]


class Stop:
    """What Ctrl-C and SIGTERM do: ask the current run to stop after its current training step
    (a signal raised inside the backend's code would corrupt the run); the run is then recorded
    as interrupted. A second Ctrl-C stops at once. Workers get the request forwarded."""

    def __init__(self):
        self.reason: str | None = None
        self.children: list[subprocess.Popen] = []

    def __call__(self) -> str | None:
        return self.reason

    def handle(self, signum, frame):
        if self.reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt("stopped at once (Ctrl-C twice)")
        self.reason = "interrupted by the user (Ctrl-C)" if signum == signal.SIGINT else \
            f"stopped by {signal.Signals(signum).name}"
        for child in self.children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGINT)
        print(f"\n{self.reason}: stopping after the current training step (Ctrl-C again to stop at once)",
              file=sys.stderr, flush=True)

    def install(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle)


def watch_parent(parent: int):
    """A worker stops (SIGTERM to itself) when its main process is gone, even if that was killed by
    SIGKILL: on Linux the kernel sends the signal (PR_SET_PDEATHSIG), elsewhere a watchdog thread
    notices. Set up in the worker itself, not between fork and exec, where running Python code is
    unsafe once the main process has threads (JAX's, TensorFlow's)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch():
        while True:
            if os.getppid() != parent:  # also a parent that died before the prctl above
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(2)
    threading.Thread(target=watch, daemon=True).start()


def exit_description(code: int) -> str:
    return f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"


def environment(device: str) -> dict:
    import keras

    env = {"backend": keras.backend.backend(), "keras": keras.__version__, "device": device,
           "python": platform.python_version(), "host": platform.node(),
           "threads": int(os.environ.get("RNNZOO_THREADS", "0")) or None,
           "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
    # Versions from the installed packages' metadata: importing a backend that is not the one in
    # use costs seconds (and TensorFlow's start-up lines).
    for module, distributions in (("tensorflow", ("tensorflow", "tensorflow-cpu")), ("jax", ("jax",)),
                                  ("torch", ("torch",))):
        for distribution in distributions:
            try:
                env[module] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    try:
        env["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        env["git_commit"] = None
    return env


def seconds_from_environment(name: str, default: float | None, *, zero: bool = False,
                             off: bool = False) -> float | None:
    """A number of seconds from the environment variable `name` (unset or empty: `default`): > 0,
    or >= 0 with `zero`; None for "off" where `off` allows it. A ValueError naming the variable,
    its value, the valid forms and the default otherwise."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if off and text.lower() == "off":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and (value >= 0 if zero else value > 0)):
        valid = f"a number of seconds {'>=' if zero else '>'} 0" + (" or 'off'" if off else "")
        raise ValueError(f"${name} must be {valid} (default {default:g}), got {text!r}.")
    return value
