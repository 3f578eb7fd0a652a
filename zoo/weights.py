"""Moving weights between the LSTM family's cells, gate block by gate block."""

from __future__ import annotations

import numpy as np

from zoo.cells import GatedCell

__all__ = ["transfer_lstm_weights"]

_LSTM_BLOCKS = ("i", "f", "c", "o")


def _lstm_cell(layer, argument: str):
    """The LSTM-family cell inside a Keras `LSTM`/`RNN` layer, or the cell itself."""
    cell = getattr(layer, "cell", layer)
    if not (isinstance(cell, GatedCell) or type(cell).__name__ == "LSTMCell"):
        raise ValueError(f"`{argument}` must be an LSTM-family layer or cell (keras LSTM, zoo GatedCell), got "
                         f"{type(cell).__name__} {cell!r:.80}.")
    if not cell.built:
        raise ValueError(f"{type(cell).__name__} {cell.name!r} is not built yet; call it on data first.")
    return cell


def _blocks(cell):
    return getattr(cell, "blocks", _LSTM_BLOCKS)


def transfer_lstm_weights(source, target):
    """Copy the gate blocks of `source` into `target` wherever both cells have that gate.

    Works between Keras' `LSTM`/`LSTMCell` and the zoo's `GatedCell` variants (`peephole`,
    `cifg`, the Greff ablations) in either direction. Kernel, recurrent kernel and bias are
    copied block by block ([i, f, c, o]); weights only the target has (peepholes, full gate
    recurrence) are left as they are. Returns the names of the blocks copied.
    """
    src, dst = _lstm_cell(source, "source"), _lstm_cell(target, "target")
    if src.kernel.shape[0] != dst.kernel.shape[0] or src.units != dst.units:
        raise ValueError(
            f"shapes differ: source has input_dim={src.kernel.shape[0]}, units={src.units}; "
            f"target has input_dim={dst.kernel.shape[0]}, units={dst.units}."
        )
    src_blocks, dst_blocks = _blocks(src), _blocks(dst)
    shared = [g for g in dst_blocks if g in src_blocks]
    units = dst.units

    def copy(name):
        s, d = getattr(src, name), getattr(dst, name)
        if s is None or d is None:
            return
        s_val, d_val = np.asarray(s.numpy() if hasattr(s, "numpy") else s), np.array(d.numpy())
        for g in shared:
            si, di = src_blocks.index(g), dst_blocks.index(g)
            d_val[..., di * units : (di + 1) * units] = s_val[..., si * units : (si + 1) * units]
        d.assign(d_val)

    for name in ("kernel", "recurrent_kernel", "bias"):
        copy(name)
    return shared
