"""The zoo alone: the project's wheel, installed into a clean virtual environment with only Keras
and a backend (no experiments extras), imports and builds a model."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.registry  # fetches Keras and JAX from PyPI (or pip's cache)
def test_the_zoo_installs_and_works_without_the_experiments_extras(tmp_path):
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("rnn_zoo-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = tmp_path / "venv" / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel), "jax[cpu]"],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-2000:]
    script = (
        "import sys, numpy as np, zoo\n"
        "model = zoo.many_to_one('cifg', 2, input_dim=3, units=4)\n"
        "assert model.predict(np.zeros((2, 5, 3)), verbose=0).shape == (2, 2)\n"
        "assert zoo.recurrent_layer('mingru', 4).runs_as.startswith('ProjectedRNN')\n"
        "extras = [m for m in ('optuna', 'pandas', 'matplotlib', 'seaborn', 'tensorflow') if m in sys.modules]\n"
        "assert not extras, extras\n"
        "print('ok')\n")
    result = subprocess.run([str(python), "-c", script], capture_output=True, text=True, cwd=tmp_path,
                            env={"KERAS_BACKEND": "jax", "PATH": "/usr/bin:/bin"}, timeout=600)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
    missing = subprocess.run([str(python), "-c", "import optuna"], capture_output=True, text=True)
    assert missing.returncode != 0  # the experiments extras stayed out
