"""The device the backend computes on: one probe for the loops' choices, the runner, the bench
and the GPU check. Keras is imported inside each function, so that a process may choose its GPUs
(`CUDA_VISIBLE_DEVICES`) after importing this module and before the backend starts.

    >>> from zoo import device
    >>> device.on_gpu()
    False
    >>> device.describe()                     # doctest: +SKIP
    'CPU (x86_64, 2 cores)'
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess

__all__ = ["on_gpu", "describe", "setup", "peak_memory_mib", "require_gpu", "visible_gpus", "ACCELERATORS"]

ACCELERATORS = ("gpu", "cuda", "rocm", "tpu")


def on_gpu() -> bool:
    """Whether the backend computes on a GPU (or TPU): where the loops' "auto" choices differ."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() in ACCELERATORS
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def describe() -> str:
    """The device in words: "GPU x2 (NVIDIA H100)", or "CPU (x86_64, 2 cores)"."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        if devices[0].platform in ACCELERATORS:
            return f"{devices[0].platform.upper()} x{len(devices)} ({devices[0].device_kind})"
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
            return f"GPU x{len(gpus)} ({name})"
    elif backend == "torch" and on_gpu():
        import torch

        return f"GPU x{torch.cuda.device_count()} ({torch.cuda.get_device_name(0)})"
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def setup(mixed_precision: bool = False, threads: int = 0) -> str:
    """Prepare the backend for training and describe the device: the GPU's memory grows as needed
    (TensorFlow), and `threads` > 0 caps the backend's thread pools (one worker of several on a
    CPU). Call it before the first computation."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")  # each run builds new models; their first traces are expected
        if threads:
            with contextlib.suppress(RuntimeError):  # only before the runtime starts
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        for gpu in tf.config.list_physical_devices("GPU"):
            with contextlib.suppress(RuntimeError):  # already initialised
                tf.config.experimental.set_memory_growth(gpu, True)
    elif keras.backend.backend() == "torch" and threads:
        import torch

        torch.set_num_threads(threads)
    return describe() + (", mixed precision" if mixed_precision else "")


def peak_memory_mib() -> float | None:
    """The device's peak memory in use (MiB) where the backend reports it (JAX on a GPU)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        if "peak_bytes_in_use" in stats:
            return stats["peak_bytes_in_use"] / 2 ** 20
    return None


def require_gpu(allow_cpu: bool = False) -> str:
    """The device's description; a RuntimeError naming what the backend sees when it has no GPU
    and `allow_cpu` is False."""
    import keras

    if not on_gpu() and not allow_cpu:
        raise RuntimeError(f"no GPU found: the {keras.backend.backend()} backend computes on {describe()}. "
                           "Pass --allow-cpu to run on it anyway.")
    return describe()


def visible_gpus() -> list[str]:
    """The GPU indices this process may use, read without starting a backend: those listed in
    `CUDA_VISIBLE_DEVICES`, else those `nvidia-smi` lists (none where it is missing)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed:
        return [g for g in listed.split(",") if g.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU")]
