"""CTC decoding of ``keras.ops.nn`` (re-exported by ``easynn.ops.nn``): ``ctc_decode`` with the
greedy and the beam-search strategies. ``ctc_loss`` lives in ``nn_conv``.

Outputs follow Keras: ``(decoded, scores)`` where ``decoded`` is ``(top_paths, batch, max_length)``
int32, each path left-aligned and padded with -1, and ``scores`` is ``(batch, top_paths)``.

Example:
    >>> import torch
    >>> logits = torch.log(torch.tensor([[[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]]))
    >>> ctc_decode(logits, [4])[0]
    tensor([[[ 1,  2, -1, -1]]], dtype=torch.int32)
"""

from __future__ import annotations

import math
from typing import Any

import torch

from easynn import _validation
from easynn.ops._convert import tensor
from easynn.ops._dispatch import op

Tensor = torch.Tensor

__all__ = ["ctc_decode"]

_STRATEGIES = ("greedy", "beam_search")


def _greedy(x: Tensor, lengths: Tensor, merge_repeated: bool, blank: int) -> tuple[Tensor, Tensor]:
    batch, steps, _ = x.shape
    scores, best = x.max(dim=-1)
    outside = torch.arange(steps, device=x.device)[None, :] >= lengths[:, None]
    best = torch.where(outside, torch.full_like(best, blank), best)
    scores = torch.where(outside, torch.zeros_like(scores), scores)
    if merge_repeated:  # a label equal to the one just before it (blank between them keeps both)
        repeat = torch.zeros_like(best, dtype=torch.bool)
        repeat[:, 1:] = best[:, 1:] == best[:, :-1]
        best = torch.where(repeat, torch.full_like(best, blank), best)
    dropped = best == blank
    # stable sort of (dropped, position) moves the kept labels to the front, in order
    order = torch.argsort(dropped.to(torch.int8), dim=1, stable=True)
    labels = torch.where(dropped, torch.full_like(best, -1), best).gather(1, order)
    return labels.to(torch.int32)[None], -scores.sum(dim=1, keepdim=True)


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high = a if a > b else b
    return high + math.log1p(math.exp(-abs(a - b)))


def _beam_one(log_probs: list, length: int, beam_width: int, top_paths: int, blank: int) -> list:
    """Prefix beam search of one sequence: ``[(prefix, log p), ...]`` best first."""
    # beams: prefix -> [log p(prefix, last frame blank), log p(prefix, last frame a label)]
    beams: dict[tuple, list] = {(): [0.0, -math.inf]}
    for t in range(length):
        row = log_probs[t]
        grown: dict[tuple, list] = {}
        for prefix, (p_blank, p_label) in beams.items():
            total = _log_add(p_blank, p_label)
            for k, p in enumerate(row):
                if k == blank:
                    entry = grown.setdefault(prefix, [-math.inf, -math.inf])
                    entry[0] = _log_add(entry[0], total + p)
                elif prefix and prefix[-1] == k:
                    # the same label again: merged into the prefix unless a blank separated them
                    entry = grown.setdefault(prefix, [-math.inf, -math.inf])
                    entry[1] = _log_add(entry[1], p_label + p)
                    longer = grown.setdefault(prefix + (k,), [-math.inf, -math.inf])
                    longer[1] = _log_add(longer[1], p_blank + p)
                else:
                    longer = grown.setdefault(prefix + (k,), [-math.inf, -math.inf])
                    longer[1] = _log_add(longer[1], total + p)
        ranked = sorted(grown.items(), key=lambda item: _log_add(*item[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    ranked = sorted(beams.items(), key=lambda item: _log_add(*item[1]), reverse=True)
    return [(prefix, _log_add(*scores)) for prefix, scores in ranked[:top_paths]]


def _beam_search(x: Tensor, lengths: Tensor, beam_width: int, top_paths: int, blank: int) -> tuple[Tensor, Tensor]:
    batch, steps, _ = x.shape
    log_probs = torch.log_softmax(x, dim=-1).detach().cpu().tolist()
    decoded = torch.full((top_paths, batch, steps), -1, dtype=torch.int32)
    scores = torch.full((batch, top_paths), -math.inf, dtype=x.dtype)
    for b, length in enumerate(lengths.tolist()):
        for rank, (prefix, score) in enumerate(_beam_one(log_probs[b], min(int(length), steps), beam_width,
                                                          top_paths, blank)):
            decoded[rank, b, :len(prefix)] = torch.tensor(prefix, dtype=torch.int32)
            scores[b, rank] = score
    return decoded.to(x.device), scores.to(x.device)


@op
def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int | None = 0) -> tuple[Tensor, Tensor]:
    """Decode CTC outputs into label sequences (blank = ``mask_index``).

    Formula:
        greedy: ``best[t] = argmax_k inputs[t, k]``; with ``merge_repeated`` a label equal to the one at
        ``t - 1`` is dropped, then blanks are dropped; ``score = -sum_t max_k inputs[t, k]`` over the
        first ``sequence_lengths`` steps (TensorFlow's ``neg_sum_logits``).
        beam_search: prefix beam search on ``log_softmax(inputs)``; a prefix's score is
        ``log sum_{alignments a collapsing to it} prod_t p(a_t)``, the ``beam_width`` best prefixes
        are kept after each step and the ``top_paths`` best returned. Repeats always merge unless a
        blank separates them (``merge_repeated`` is not used, as in Keras).

    Args:
        inputs: ``(batch, max_length, num_classes)`` logits (not softmax-normalised).
        sequence_lengths: ``(batch,)`` valid lengths (or one length for all); later steps are ignored.
        strategy: ``"greedy"`` or ``"beam_search"``.
        beam_width: prefixes kept per step (beam search).
        top_paths: number of paths returned (beam search; greedy returns 1).
        merge_repeated: greedy only: merge consecutive equal labels.
        mask_index: the blank class; ``None`` means the last class.

    Returns:
        ``(decoded, scores)``: ``decoded`` int32 ``(top_paths, batch, max_length)`` padded with -1;
        ``scores`` ``(batch, top_paths)`` in the inputs' float dtype (at least float32). The beam search
        runs as a Python loop over steps and beams: meant for short sequences and evaluation.

    Raises:
        ValueError: ``inputs`` not 3-D, a bad ``strategy``, ``beam_width``, ``top_paths`` or ``mask_index``.

    Example:
        >>> logits = torch.tensor([[[0.0, 2.0, 1.0], [0.0, 2.0, 1.0], [3.0, 0.0, 0.0]]])
        >>> decoded, scores = ctc_decode(logits, [3])
        >>> decoded, scores
        (tensor([[[ 1, -1, -1]]], dtype=torch.int32), tensor([[-7.]]))
    """
    x = tensor(inputs)
    if not x.is_floating_point():
        x = x.to(torch.float32)
    elif x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    if x.dim() != 3:
        raise ValueError("ctc_decode(): `inputs` must be 3-D (batch, max_length, num_classes). "
                         f"Received: inputs.shape={tuple(x.shape)}")
    batch, steps, classes = x.shape
    lengths = tensor(sequence_lengths).to(device=x.device, dtype=torch.long).reshape(-1)
    if lengths.shape[0] == 1:  # one length for every sequence (it broadcasts, as in Keras's torch backend)
        lengths = lengths.expand(batch)
    if lengths.shape[0] != batch:
        raise ValueError(f"ctc_decode(): `sequence_lengths` must have one entry per sequence ({batch}) or one "
                         f"for all. Received shape {tuple(lengths.shape)}")
    _validation.one_of("strategy", strategy, _STRATEGIES)
    blank = classes - 1 if mask_index is None else int(mask_index)
    if isinstance(mask_index, bool) or not -classes <= blank < classes:
        raise ValueError(f"`mask_index` must be None or a class index in [0, {classes}). "
                         f"Received: mask_index={mask_index!r}")
    blank %= classes
    if strategy == "greedy":
        return _greedy(x, lengths, bool(merge_repeated), blank)
    width = _validation.positive_int("beam_width", beam_width)
    paths = _validation.positive_int("top_paths", top_paths)
    if paths > width:
        raise ValueError(f"`top_paths` must be <= beam_width ({width}). Received: top_paths={top_paths}")
    return _beam_search(x, lengths, width, paths, blank)
