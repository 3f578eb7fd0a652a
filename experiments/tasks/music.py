"""Polyphonic music: Bach chorales as piano rolls (the JSB Chorales task of Greff et al. and Bai et al.).

The chorales come from the corpus that ships with `music21`. Each is read once (about a quarter
of a second each) and its piano roll cached under `data/bach/`. A frame is a quarter note; a
roll has 88 pitches (MIDI 21-108, the piano). The model reads frames 1..t and predicts which
pitches sound in frame t+1; the metric is the negative log-likelihood per frame (summed over
the 88 pitches), padding excluded.
"""

from __future__ import annotations

import hashlib

import numpy as np

from experiments.data import data_dir, load_with_fallbacks
from experiments.tasks import Dataset, Split, Task, register_task

LOWEST, PITCHES = 21, 88


def chorale_paths() -> list:
    """The four-part chorales of the music21 corpus, in name order: cantata and passion movements
    (BWV n.m) and the chorale collection BWV 250-438; variant versions (-a, -lz, ...) left out."""
    import re

    from music21 import corpus

    def is_chorale(path):
        match = re.fullmatch(r"bwv(\d+)(\.\d+)?", path.stem)
        return path.suffix == ".mxl" and match and (match.group(2) or 250 <= int(match.group(1)) <= 438)

    return sorted((p for p in corpus.getComposer("bach") if is_chorale(p)), key=lambda p: p.stem)


def piano_roll(path, frames_per_quarter: int) -> np.ndarray:
    """(frames, 88) 0/1 roll of one chorale; cached as .npy with the source's checksum in its name."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    cache = data_dir() / "bach" / f"{path.stem}-{frames_per_quarter}-{digest}-v2.npy"
    if cache.exists():
        try:
            return np.load(cache)
        except (OSError, ValueError):
            cache.unlink()  # truncated: read the chorale again
    from music21 import converter

    score = converter.parse(path)
    length = int(np.ceil(float(score.highestTime) * frames_per_quarter))
    roll = np.zeros((max(length, 1), PITCHES), "uint8")
    for element in score.flatten().notes:
        # A frame holds the pitches sounding at its start, as in the JSB piano rolls: a passing
        # note between two frame times belongs to no frame.
        start = int(np.ceil(float(element.offset) * frames_per_quarter - 1e-9))
        stop = int(np.ceil(float(element.offset + element.quarterLength) * frames_per_quarter - 1e-9))
        for pitch in element.pitches:
            if LOWEST <= pitch.midi < LOWEST + PITCHES:
                roll[start:stop, pitch.midi - LOWEST] = 1
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npy")
    np.save(tmp, roll)
    tmp.replace(cache)
    return roll


def load_chorales(count: int, frames_per_quarter: int) -> list[np.ndarray]:
    def from_music21():
        paths = chorale_paths()
        if len(paths) < 350:
            raise ValueError(f"the music21 corpus has {len(paths)} Bach chorales, expected about 380")
        return [piano_roll(p, frames_per_quarter) for p in (paths[:count] if count else paths)]

    return load_with_fallbacks("Bach chorales", [("music21 corpus", from_music21)],
                               manual_hint="pip install music21 (its corpus holds the chorales)")


def chunks(rolls, length: int) -> Split:
    """Each chorale cut into windows of `length` frames: input frames t, target frames t+1."""
    xs, ys, ws = [], [], []
    for roll in rolls:
        for start in range(0, len(roll) - 1, length):
            x = roll[start:start + length]
            y = roll[start + 1:start + length + 1]
            n = len(y)
            xs.append(np.pad(x[:n], ((0, length - n), (0, 0))))
            ys.append(np.pad(y, ((0, length - n), (0, 0))))
            ws.append(np.arange(length) < n)
    return Split(np.array(xs, "float32"), np.array(ys, "float32"), np.array(ws, "float32"))


def make_bach(params, seed):
    """The documented split: chorales in name order, index % 5 == 3 validation, == 4 test."""
    rolls = load_chorales(params["n_chorales"], params["frames_per_quarter"])
    parts = {"train": [], "val": [], "test": []}
    for i, roll in enumerate(rolls):
        parts["val" if i % 5 == 3 else "test" if i % 5 == 4 else "train"].append(roll)
    length = params["seq_len"]
    return Dataset(chunks(parts["train"], length), chunks(parts["val"], length), chunks(parts["test"], length),
                   info={"input_dim": PITCHES, "num_outputs": PITCHES})


def weighted_frames(weight, *arrays):
    """The frames of non-zero weight of each array, and those weights: padding (weight 0) is never
    read. Whole sequences padded to a split's longest are mostly padding (MuseData's training
    split: about one in seven of its padded frames is real)."""
    weight = np.asarray(weight)
    real = weight != 0
    return weight[real], *(np.asarray(a)[real] for a in arrays)


def frame_nll(y, p, weight) -> float:
    """Bernoulli NLL summed over the pitches, averaged over the weighted frames (nats per frame)."""
    weight, y, p = weighted_frames(weight, y, p)
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    nll = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum(-1)
    return float((nll * weight).sum() / weight.sum())


def score_frames(split, predictions, info):
    """Negative log-likelihood per frame (nats, summed over the 88 pitches), padding excluded."""
    return {"nll_per_frame": frame_nll(split.y, predictions, split.sample_weight)}


def training_frequencies(split) -> np.ndarray:
    """How often each pitch sounds in the split's real (weighted) frames."""
    weight, y = weighted_frames(split.sample_weight, split.y)
    return (y * weight[:, None]).sum(0) / weight.sum()


def pitch_frequency_baseline(dataset, params):
    """Every pitch on with its training frequency, independent of the past."""
    freq = training_frequencies(dataset.train)
    return score_frames(dataset.test, np.broadcast_to(freq, dataset.test.y.shape), dataset.info)


register_task(Task(
    name="bach_chorales",
    description="predict the next frame of a Bach chorale (polyphonic music, 88-pitch piano roll)",
    topology="frame_prediction",
    metric="nll_per_frame",
    higher_is_better=False,
    params={"n_chorales": 0, "frames_per_quarter": 1, "seq_len": 64},
    sizes={
        "smoke": {"n_chorales": 15, "seq_len": 32},
        "default": {"n_chorales": 0, "seq_len": 64},
        "paper": {"n_chorales": 0, "seq_len": 64},
    },
    make=make_bach,
    score=score_frames,
    baseline=pitch_frequency_baseline,
    baseline_name="each pitch at its training frequency",
    train={"learning_rate": 2e-3},
    citation="Boulanger-Lewandowski et al. 2012 (JSB task); Bach chorales of the music21 corpus (BSD licence)",
    source="PyPI music21 corpus; n_chorales 0 = all; split by index: % 5 == 3 validation, == 4 test",
))
