"""Independent NumPy implementations of the published equations, for checking the zoo's cells.

Written from the papers, not from the zoo's code: Elman 1990; Greff et al. 2015, eq. 1-6 (with
their ablations); Cho et al. 2014 (GRU) and the cuDNN variant with the reset gate applied after
the recurrent matmul. Weight layout follows Keras ([i, f, c, o] and [z, r, h] gate blocks).
"""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def blocks(matrix, n):
    return np.split(matrix, n, axis=-1)


def elman_step(x, h, W, U, b, act=np.tanh):
    return act(x @ W + h @ U + b)


def lstm_step(x, h, c, W, R, b, *, peep=None, gates="ifco", coupled=False,
              input_act=np.tanh, output_act=np.tanh, gate_prev=None, Rg=None):
    """One step of Greff et al.'s LSTM; `gates` names the blocks present in W, R, b.

    `peep` maps gate name -> peephole vector; `gate_prev` (previous [i, f, o] activations of
    the gates present) and `Rg` add full gate recurrence. Returns h, c and the gate activations.
    """
    pre = dict(zip(gates, blocks(x @ W + h @ R + b, len(gates))))
    sig_gates = [g for g in gates if g != "c"]
    if Rg is not None:
        fb = dict(zip(sig_gates, blocks(gate_prev @ Rg, len(sig_gates))))
        for g in sig_gates:
            pre[g] = pre[g] + fb[g]
    peep = peep or {}
    f = sigmoid(pre["f"] + peep.get("f", 0) * c) if "f" in gates else np.ones_like(c)
    if coupled:
        i = 1.0 - f
    else:
        i = sigmoid(pre["i"] + peep.get("i", 0) * c) if "i" in gates else np.ones_like(c)
    z = input_act(pre["c"])
    c_new = z * i + c * f
    o = sigmoid(pre["o"] + peep.get("o", 0) * c_new) if "o" in gates else np.ones_like(c)
    h_new = output_act(c_new) * o
    acts = {"i": i, "f": f, "o": o}
    return h_new, c_new, np.concatenate([acts[g] for g in sig_gates], axis=-1)


def gru_step(x, h, W, U, b, *, reset_after, h_seen=None):
    """One GRU step; `h_seen` (default `h`) is h_{t-1} as the matmuls see it (after recurrent dropout)."""
    u = h.shape[-1]
    hs = h if h_seen is None else h_seen
    if reset_after:
        xb, rb = b[0], b[1]
        x_z, x_r, x_h = blocks(x @ W + xb, 3)
        h_z, h_r, h_h = blocks(hs @ U + rb, 3)
        z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        n = np.tanh(x_h + r * h_h)
    else:
        x_z, x_r, x_h = blocks(x @ W + b, 3)
        z = sigmoid(x_z + hs @ U[:, :u])
        r = sigmoid(x_r + hs @ U[:, u:2 * u])
        n = np.tanh(x_h + (r * hs) @ U[:, 2 * u:])
    return z * h + (1 - z) * n


def run_sequence(step, xs, state, mask=None):
    """Apply `step(x_t, state) -> state` over time (axis 1); masked steps keep the state.

    Returns the per-step outputs (the first state component) and the final state.
    """
    outputs = []
    for t in range(xs.shape[1]):
        new = step(xs[:, t], state)
        if mask is not None:
            keep = mask[:, t]
            new = tuple(np.where(keep.reshape(-1, *[1] * (np.ndim(s) - 1)), n, s) for n, s in zip(new, state))
        state = new
        outputs.append(state[0])
    return np.stack(outputs, axis=1), state


# --- the cells after the LSTM and GRU (written from the papers) ---------------------------------

def mingru_step(x, h, W, b):
    """Feng et al. 2024: z = sig(W_z x + b_z), h~ = W_h x + b_h, h = (1 - z) h' + z h~."""
    z_pre, cand = blocks(x @ W + b, 2)
    z = sigmoid(z_pre)
    return (1 - z) * h + z * cand


def minlstm_step(x, h, W, b):
    """Feng et al. 2024: f, i from x only, normalised by their sum; h = f' h' + i' h~."""
    f_pre, i_pre, cand = blocks(x @ W + b, 3)
    f, i = sigmoid(f_pre), sigmoid(i_pre)
    return f / (f + i) * h + i / (f + i) * cand


def positive_g(v):
    """Feng et al. 2024, log-space form: g(v) = v + 1/2 for v >= 0, sigmoid(v) below."""
    return np.where(v >= 0, v + 0.5, sigmoid(v))


def log_space_scan(log_a, log_b, h0):
    """Feng et al. 2024's parallel scan in log space, h_t = a_t h_{t-1} + b_t for a, b > 0, written
    with NumPy's logaddexp.accumulate: log h_t = a*_t + log(h_0 + sum_{s<=t} exp(log b_s - a*_s))
    (h_0 > 0 here; float64)."""
    a_star = np.cumsum(log_a, axis=1)
    terms = np.concatenate([np.log(h0)[:, None], log_b - a_star], axis=1)
    return np.exp(a_star + np.logaddexp.accumulate(terms, axis=1)[:, 1:])


def indrnn_step(x, h, W, u, b, act=lambda v: np.maximum(v, 0)):
    """Li et al. 2018: h = relu(W x + u * h' + b), u element-wise."""
    return act(x @ W + u * h + b)


def mut_step(kind, x, h, Wx, Wh, b, P=None, h_seen=None):
    """Jozefowicz et al. 2015, MUT1-3. `Wx`: dict of input matrices, `Wh`: dict of recurrent
    matrices, `b`: dict of biases; `P`: the projection standing in for the bare x when the input
    size differs from the state's (None: x itself, the paper's equal sizes). `h_seen` (default h):
    h' where it enters the gates and the candidate (after recurrent dropout); the last line keeps h'."""
    bare = x if P is None else x @ P
    h_out, h = h, (h if h_seen is None else h_seen)
    if kind == "mut1":
        z = sigmoid(x @ Wx["z"] + b["z"])
        r = sigmoid(x @ Wx["r"] + h @ Wh["r"] + b["r"])
        cand = np.tanh((r * h) @ Wh["h"] + np.tanh(bare) + b["h"])
    elif kind == "mut2":
        z = sigmoid(x @ Wx["z"] + h @ Wh["z"] + b["z"])
        r = sigmoid(bare + h @ Wh["r"] + b["r"])
        cand = np.tanh((r * h) @ Wh["h"] + x @ Wx["h"] + b["h"])
    else:
        z = sigmoid(x @ Wx["z"] + np.tanh(h) @ Wh["z"] + b["z"])
        r = sigmoid(x @ Wx["r"] + h @ Wh["r"] + b["r"])
        cand = np.tanh((r * h) @ Wh["h"] + x @ Wx["h"] + b["h"])
    return cand * z + h_out * (1 - z)


def lru_step(u, x, nu_log, theta_log, gamma_log, B, C, D):
    """Orvieto et al. 2023 with complex numbers: lambda = exp(-exp(nu) + i exp(theta)),
    x = lambda x' + gamma (B u), y = Re(C x) + D u. `B` (input_dim, N) and `C` (N, units) complex."""
    lam = np.exp(-np.exp(nu_log) + 1j * np.exp(theta_log))
    x_new = lam * x + np.exp(gamma_log) * (u @ B)
    y = (x_new @ C).real + u @ D
    return y, x_new


# --- the cells of 2024 (written from the papers) ------------------------------------------------

def _log_forget(f_pre, forget):
    return -np.logaddexp(0.0, -f_pre) if forget == "sigmoid" else f_pre


def slstm_step(x, h, c, n, m, W, R_heads, b, *, forget="sigmoid", stabilised=True, h_seen=None):
    """Beck et al. 2024, section 2.2: gates [i, f, z, o] from W x + R h' + b, R block-diagonal
    (`R_heads`: (heads, d, 4 d), each head's [i, f, z, o] of its d units). i = exp(i~),
    c = f c' + i z, n = f n' + i, h = o c / n; stabilised (eq. 15-17) with m = max(log f + m', i~)
    and m = i~ at the first step (n' = 0), or computed as written (`stabilised=False`, m stays 0)."""
    heads, d = R_heads.shape[0], R_heads.shape[1]
    hs = h if h_seen is None else h_seen
    rec = np.einsum("bhd,hde->bhe", hs.reshape(len(hs), heads, d), R_heads).reshape(len(hs), heads, 4, d)
    rec = rec.transpose(0, 2, 1, 3).reshape(len(hs), 4 * heads * d)
    i_pre, f_pre, z_pre, o_pre = blocks(x @ W + rec + b, 4)
    log_f = _log_forget(f_pre, forget)
    if stabilised:
        m_new = np.where(n == 0, i_pre, np.maximum(log_f + m, i_pre))
        i, f = np.exp(i_pre - m_new), np.exp(np.where(n == 0, -np.inf, log_f + m - m_new))  # f' C' = 0 when n' = 0
    else:
        m_new, i, f = m, np.exp(i_pre), np.exp(log_f)
    c = f * c + i * np.tanh(z_pre)
    n = f * n + i
    return sigmoid(o_pre) * c / n, c, n, m_new


def mlstm_step(x, h, C, n, m, W, Wg, b, bg, heads, *, forget="sigmoid", stabilised=True):
    """Beck et al. 2024, section 2.3, per head of size d: q, k / sqrt(d), v, o from W x + b
    (blocks [q, k, v, o]); scalar i~, f~ per head from Wg x + bg (blocks [i, f]);
    C = f C' + i v k^T, n = f n' + i k, h = o * C q / max(|n.q|, 1), or stabilised (eq. 27-29)
    with the bound exp(-m). `C`: (batch, heads, d, d), `n`: (batch, heads, d), `m`: (batch, heads)."""
    batch, units = len(x), W.shape[1] // 4
    d = units // heads
    q, k, v, o_pre = (a.reshape(batch, heads, d) for a in blocks(x @ W + b, 4))
    k = k / np.sqrt(d)
    i_pre, f_pre = blocks(x @ Wg + bg, 2)
    log_f = _log_forget(f_pre, forget)
    if stabilised:
        m_new = np.maximum(log_f + m, i_pre)
        i, f, bound = np.exp(i_pre - m_new), np.exp(log_f + m - m_new), np.exp(-m_new)
    else:
        m_new, i, f, bound = m, np.exp(i_pre), np.exp(log_f), 1.0
    C = f[..., None, None] * C + i[..., None, None] * np.einsum("bhv,bhk->bhvk", v, k)
    n = f[..., None] * n + i[..., None] * k
    h_tilde = np.einsum("bhvk,bhk->bhv", C, q) / np.maximum(np.abs(np.einsum("bhk,bhk->bh", n, q)), bound)[..., None]
    return (sigmoid(o_pre) * h_tilde).reshape(batch, units), C, n, m_new


def rglru_step(x, h, W, b, Lambda, c=8.0):
    """De et al. 2024, eq. 1-4 on blocks [r, i, u] of W x + b: a = sigmoid(Lambda),
    a_t = a^(c r_t), h = a_t h' + sqrt(1 - a_t^2) (i_t u_t)."""
    r_pre, i_pre, u = blocks(x @ W + b, 3)
    a_t = sigmoid(Lambda) ** (c * sigmoid(r_pre))
    return a_t * h + np.sqrt(1 - a_t ** 2) * (sigmoid(i_pre) * u)
