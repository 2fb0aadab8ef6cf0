"""Keras's recurrences written step by step with plain torch ops (float64), from Keras-layout weights.

Mask rules (Keras): a masked step keeps the states and outputs the previous output (zeros before
the first real step); ``go_backwards`` reads the reversed sequence and mask and returns the
outputs in reading order.
"""

from __future__ import annotations

import numpy as np
import torch


def _t(a):
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def simple_step(x, states, kernel, recurrent, bias, act=torch.tanh, rec_dp=None):
    (h,) = states
    hd = h if rec_dp is None else h * rec_dp
    out = act(x @ kernel + hd @ recurrent + (0 if bias is None else bias))
    return out, [out]


def lstm_step(x, states, kernel, recurrent, bias, act=torch.tanh, rec_act=torch.sigmoid, rec_dp=None):
    h, c = states
    hd = h if rec_dp is None else h * rec_dp
    z = x @ kernel + hd @ recurrent + (0 if bias is None else bias)
    i, f, g, o = z.chunk(4, dim=-1)
    c = rec_act(f) * c + rec_act(i) * act(g)
    h = rec_act(o) * act(c)
    return h, [h, c]


def gru_step(x, states, kernel, recurrent, bias, reset_after=True, act=torch.tanh, rec_act=torch.sigmoid, rec_dp=None):
    (h,) = states
    hd = h if rec_dp is None else h * rec_dp
    units = recurrent.shape[0]
    if bias is None:
        in_b, rec_b = torch.zeros(3 * units, dtype=x.dtype), torch.zeros(3 * units, dtype=x.dtype)
    elif reset_after:
        in_b, rec_b = bias[0], bias[1]
    else:
        in_b, rec_b = bias, torch.zeros(3 * units, dtype=x.dtype)
    wz, wr, wh = kernel.chunk(3, dim=-1)
    uz, ur, uh = recurrent.chunk(3, dim=-1)
    bz, br, bh = in_b.chunk(3)
    rz, rr, rh = rec_b.chunk(3)
    z = rec_act(x @ wz + bz + hd @ uz + rz)
    r = rec_act(x @ wr + br + hd @ ur + rr)
    if reset_after:
        hh = act(x @ wh + bh + r * (hd @ uh + rh))
    else:
        hh = act(x @ wh + bh + (r * hd) @ uh)
    h = z * h + (1 - z) * hh
    return h, [h]


def run(step, x, states, mask=None, go_backwards=False, zero_output_for_mask=False, **weights):
    """Returns (sequence, final_states) as float64 tensors."""
    x = _t(x)
    states = [_t(s) for s in states]
    w = {k: (None if v is None else _t(v)) if not callable(v) else v for k, v in weights.items()}
    steps = list(range(x.shape[1]))
    if go_backwards:
        steps = steps[::-1]
    prev = None
    outputs = []
    for t in steps:
        out, new = step(x[:, t], states, **w)
        if mask is not None:
            m = torch.as_tensor(np.asarray(mask))[:, t].bool()[:, None]
            if prev is None:
                prev = torch.zeros_like(out)
            out = torch.where(m, out, torch.zeros_like(out) if zero_output_for_mask else prev)
            new = [torch.where(m, n, s) for n, s in zip(new, states)]
        states = new
        prev = out
        outputs.append(out)
    return torch.stack(outputs, 1), states


def random_weights(layer, seed=1, scale=0.6):
    """Give ``layer`` random weights (Keras layout) and return them as float64 arrays."""
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-scale, scale, w.shape).astype(np.float32) for w in layer.get_weights()])
    return [w.astype(np.float64) for w in layer.get_weights()]
