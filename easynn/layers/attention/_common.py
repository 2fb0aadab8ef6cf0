"""What the attention layers share (private): call routing, input checks, masks, projections, config.

MultiHeadAttention and GroupedQueryAttention take the same call arguments and combine their masks
with Keras's rule; Attention/AdditiveAttention reuse the batch check, the causal mask and
``compute_mask``. The deliberate differences between the layers are explicit parameters here
(``causal_same_length``, ``numpy_inputs``, ``num_repeats``); checks whose wording differs per layer
stay in the layer. Nothing here adds work to a call: no tensor op and no Python loop that the
layers did not already run.

    mask    = query_mask[:, :, None] & value_mask[:, None, :] & key_mask[:, None, :]
              & causal (row i sees columns j <= i) & attention_mask            (True = may attend)
    scores  = softmax(q k^T * scale + (not mask) * -1e9)                   (-3e4 in float16)

Example:
    >>> import torch
    >>> combine_masks("mha", 1, 2, 3, None, None, torch.tensor([[1, 1, 0]]), None, None, True,
    ...               causal_same_length=False).int().tolist()
    [[[1, 0, 0], [1, 1, 0]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from easynn import constraints, initializers, regularizers

__all__ = [
    "route_call", "unpack_inputs", "check_same_batch", "as_bool", "causal_mask", "combine_masks",
    "additive_mask", "attend", "multi_head_attention", "feature_sizes", "make_projection_weights", "project_heads",
    "project_output", "query_mask_of", "set_projection_args", "projection_config",
]

_LARGE_NEGATIVE = {torch.float16: -3e4}  # Keras: -1e9, and -3e4 in float16 (no overflow)


# ---------------------------------------------------------------------- calling
def route_call(layer, layer_call, query: Any, value: Any, key: Any, kwargs: dict, *, short_name: str,
               numpy_inputs: bool):
    """``layer(query, value, key, **kwargs)`` for MultiHeadAttention-style layers.

    Keras code calls ``mha(query, value)`` and ``mha(query=q, value=v, key=k)``, also on
    functional-API tensors; the functional graph takes one input argument, so those go in as the
    list ``[query, value(, key)]``, which :func:`unpack_inputs` takes apart again in ``call``.

    Args:
        layer: the calling layer (for its name in errors).
        layer_call: ``Layer.__call__`` bound to the layer (``super().__call__``).
        query, value, key: the call's tensors (``value``/``key`` may be ``None``).
        kwargs: the other call arguments; ``value``/``key`` are added to it.
        short_name: the name used in the error's example call (``"mha"``, ``"gqa"``).
        numpy_inputs: convert NumPy arrays to tensors first (GroupQueryAttention does).

    Returns:
        What ``layer_call`` returns.

    Raises:
        ValueError: without ``query``.
    """
    from easynn.layers.rnn.base import has_symbolic

    if query is None:
        raise ValueError(f"Layer '{layer.name}' needs `query`: call it as {short_name}(query, value).")
    if numpy_inputs:
        query, value, key = (torch.as_tensor(t) if isinstance(t, np.ndarray) else t for t in (query, value, key))
    if value is not None and has_symbolic([query, value, key]):
        inputs = [query, value] + ([key] if key is not None else [])
        return layer_call(inputs, **kwargs)
    if value is not None:
        kwargs["value"] = value
    if key is not None:
        kwargs["key"] = key
    return layer_call(query, **kwargs)


def unpack_inputs(layer_name: str, query: Any, value: Any, key: Any, short_name: str):
    """The start of ``call``: ``(query, value, key)`` with ``key`` defaulting to ``value``.

    ``query`` may be the functional API's list ``[query, value(, key)]``.

    Raises:
        ValueError: without ``value``.
    """
    if isinstance(query, (list, tuple)):  # [query, value(, key)] from the functional API
        query, value, key = (list(query) + [None, None])[:3]
    if value is None:
        raise ValueError(f"Layer '{layer_name}' needs `value`: call it as {short_name}(query, value).")
    return query, value, value if key is None else key


def check_same_batch(layer_name: str, query: torch.Tensor, value: torch.Tensor, key: torch.Tensor) -> None:
    """Raise ``ValueError`` unless query, value and key have the same first dimension."""
    if not (query.shape[0] == value.shape[0] == key.shape[0]):
        raise ValueError(
            f"Layer '{layer_name}' expects query, value and key with the same batch size. Received "
            f"shapes {tuple(query.shape)}, {tuple(value.shape)}, {tuple(key.shape)}."
        )


def query_mask_of(mask: Any) -> Any:
    """``compute_mask`` of the attention layers: the query's mask (Keras), ``None`` without one."""
    if isinstance(mask, (list, tuple)):
        return mask[0] if mask else None
    return mask


# ---------------------------------------------------------------------- masks
def as_bool(mask: Any, device) -> torch.Tensor | None:
    """A mask (tensor, array, nested list; any dtype) as a bool tensor on ``device``; ``None`` stays."""
    if mask is None:
        return None
    return torch.as_tensor(mask, device=device).bool()


def causal_mask(query_length: int, value_length: int, device=None) -> torch.Tensor:
    """Bool ``(1, T, S)``: query step ``i`` may attend to value steps ``j <= i`` (Keras's rule)."""
    rows = torch.arange(query_length, device=device)[:, None]
    cols = torch.arange(value_length, device=device)[None, :]
    return (rows >= cols)[None]


def combine_masks(layer_name: str, batch: int, t: int, s: int, device, query_mask: Any, value_mask: Any,
                  key_mask: Any, attention_mask: Any, use_causal_mask: bool, *,
                  causal_same_length: bool) -> torch.Tensor | None:
    """Keras's rule: every given mask, and the causal one, combined with ``&`` into bool ``(b|1, T, S)``.

    Args:
        layer_name: for the errors.
        batch, t, s: batch size, query length ``T`` and value length ``S``.
        device: where the masks go.
        query_mask: ``(b, T)``; value_mask, key_mask: ``(b, S)``; any dtype, or ``None``.
        attention_mask: ``(b, T, S)``, ``(1, T, S)`` or ``(T, S)``, or ``None``.
        use_causal_mask: add :func:`causal_mask`.
        causal_same_length: ``True`` (MultiHeadAttention) raises for a causal mask with
            ``T != S``; ``False`` (GroupQueryAttention) applies Keras's cumsum rule to any lengths.

    Returns:
        The bool mask (``True`` = may attend), or ``None`` when there is nothing to mask.

    Raises:
        ValueError: for a mask of the wrong shape, or (``causal_same_length``) ``T != S``.
    """
    mask = None
    for name, m, length, axis in (("query_mask", query_mask, t, 2), ("value_mask", value_mask, s, 1),
                                  ("key_mask", key_mask, s, 1)):
        m = as_bool(m, device)
        if m is None:
            continue
        if tuple(m.shape) != (batch, length):
            raise ValueError(
                f"Layer '{layer_name}' expects `{name}` of shape {(batch, length)}. Received shape {tuple(m.shape)}."
            )
        m = m.unsqueeze(axis)
        mask = m if mask is None else mask & m
    if use_causal_mask:
        if causal_same_length and t != s:
            raise ValueError(
                f"Layer '{layer_name}': use_causal_mask=True needs self-attention (query and value of "
                f"the same length). Received query length {t} and value length {s}."
            )
        causal = causal_mask(t, s, device)
        mask = causal if mask is None else mask & causal
    given = as_bool(attention_mask, device)
    if given is not None:
        if given.dim() == 2:
            given = given[None]
        if given.dim() != 3 or given.shape[1:] != (t, s) or given.shape[0] not in (1, batch):
            raise ValueError(
                f"Layer '{layer_name}' expects `attention_mask` of shape (batch, T, S) = {(batch, t, s)}. "
                f"Received shape {tuple(given.shape)}."
            )
        mask = given if mask is None else mask & given
    return mask


def additive_mask(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """Bool ``(b, T, S)`` -> additive ``(b, 1, T, S)`` in ``dtype``: 0 where attended, -1e9 elsewhere."""
    if mask is None:
        return None
    return (~mask).to(dtype).mul(_LARGE_NEGATIVE.get(dtype, -1e9)).unsqueeze(1)


# ---------------------------------------------------------------------- attention
def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, additive: torch.Tensor | None, scale: float,
           dropout_p: float, return_attention_scores: bool, num_repeats: int = 1):
    """``dropout(softmax(q k^T * scale + additive)) @ v`` per head, and the probabilities.

    Args:
        q: ``(b, H, T, d)``; k: ``(b, H / num_repeats, S, d)``; v: ``(b, H / num_repeats, S, d_v)``.
        additive: from :func:`additive_mask`, or ``None``.
        scale: multiplies the logits.
        dropout_p: dropout rate on the probabilities (0 outside training).
        return_attention_scores: compute the probabilities explicitly and return them; otherwise
            the attention runs in ``F.scaled_dot_product_attention`` (fused kernels).
        num_repeats: query heads per key/value head; query head ``h`` reads key/value head
            ``h // num_repeats`` (grouped-query attention).

    Returns:
        ``(attended (b, H, T, d_v), probabilities (b, H, T, S) or None)``.
    """
    if not return_attention_scores:  # torch groups the heads itself (same h // r rule) without copies
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, dropout_p=dropout_p, scale=scale,
                                                  enable_gqa=num_repeats > 1)
        return attended, None
    if num_repeats > 1:  # query head h reads key/value head h // r: repeat each kv head r times in place
        k = k.repeat_interleave(num_repeats, dim=1)
        v = v.repeat_interleave(num_repeats, dim=1)
    logits = torch.einsum("bhtk,bhsk->bhts", q * scale, k)
    if additive is not None:
        logits = logits + additive
    scores = torch.softmax(logits, dim=-1)
    return torch.einsum("bhts,bhsv->bhtv", F.dropout(scores, dropout_p, training=dropout_p > 0), v), scores


def multi_head_attention(layer, query: torch.Tensor, value: torch.Tensor, key: torch.Tensor,
                         mask: torch.Tensor | None, scale: float, dropout_p: float, return_attention_scores: bool,
                         num_repeats: int = 1):
    """Project ``query``/``key``/``value`` to heads, :func:`attend`, and project the heads back out.

    Args:
        layer: has ``query``/``key``/``value``/``output`` kernels (and biases with ``use_bias``).
        query: ``(b, T, d_q)``; value: ``(b, S, d_v)``; key: ``(b, S, d_k)``.
        mask: bool ``(b|1, T, S)`` from :func:`combine_masks`, or ``None``.
        scale, dropout_p, return_attention_scores, num_repeats: as for :func:`attend`.

    Returns:
        ``(output (b, T, d_out), probabilities (b, H, T, S) or None)``.
    """
    q = project_heads(layer, query, "query")
    k, v = project_heads(layer, key, "key"), project_heads(layer, value, "value")
    attended, scores = attend(q, k, v, additive_mask(mask, q.dtype), scale, dropout_p, return_attention_scores,
                              num_repeats)
    return project_output(layer, attended), scores


# ---------------------------------------------------------------------- weights
def feature_sizes(query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> tuple[int, int, int] | None:
    """``build``'s arguments -> ``(d_query, d_value, d_key)``; ``None`` when the value's shape is unknown.

    ``query_shape`` may be the functional API's list ``[query, value(, key)]`` of shapes; ``key``
    defaults to ``value``. ``None`` means ``Layer.__call__`` only knew the query: the weights are
    made on the call.
    """
    if isinstance(query_shape, list) and value_shape is None and len(query_shape) in (2, 3):
        query_shape, value_shape, *rest = query_shape
        key_shape = rest[0] if rest else None
    if value_shape is None:
        return None
    return int(query_shape[-1]), int(value_shape[-1]), int((key_shape or value_shape)[-1])


def make_projection_weights(layer, shapes) -> None:
    """Add ``<name>_kernel`` (and, with ``layer.use_bias``, ``<name>_bias``) for each ``(name, kernel
    shape, bias shape)`` in ``shapes``, with the layer's initializers, regularizers and constraints.

    They are made on the first call (``Layer.__call__`` only sees the query's shape), which counts
    as the build. Sets ``layer._weights_made``.
    """
    layer.__dict__["_building"] = True
    try:
        for name, kernel, bias in shapes:
            setattr(layer, f"{name}_kernel", layer.add_weight(
                kernel, layer.kernel_initializer, regularizer=layer.kernel_regularizer, name=f"{name}_kernel",
                constraint=layer.kernel_constraint))
            if layer.use_bias:
                setattr(layer, f"{name}_bias", layer.add_weight(
                    bias, layer.bias_initializer, regularizer=layer.bias_regularizer, name=f"{name}_bias",
                    constraint=layer.bias_constraint))
        layer._weights_made = True
    finally:
        layer.__dict__["_building"] = False


def project_heads(layer, x: torch.Tensor, name: str) -> torch.Tensor:
    """``(b, n, d) -> (b, heads, n, dim)`` with ``layer.<name>_kernel`` ``(d, heads, dim)`` (+ bias)."""
    out = torch.einsum("bnd,dhk->bhnk", x, getattr(layer, f"{name}_kernel"))
    if layer.use_bias:
        out = out + getattr(layer, f"{name}_bias")[None, :, None, :]
    return out


def project_output(layer, attended: torch.Tensor) -> torch.Tensor:
    """``(b, heads, T, dim) -> (b, T, d_out)``: sum over heads with ``layer.output_kernel`` (+ bias)."""
    out = torch.einsum("bhtv,hvo->bto", attended, layer.output_kernel)
    if layer.use_bias:
        out = out + layer.output_bias
    return out


# ---------------------------------------------------------------------- config
def set_projection_args(layer, kernel_initializer: Any, bias_initializer: Any, kernel_regularizer: Any,
                        bias_regularizer: Any, kernel_constraint: Any, bias_constraint: Any) -> None:
    """Resolve and store the projections' initializers, regularizers and constraints on ``layer``."""
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint, argument="kernel_constraint")
    layer.bias_constraint = constraints.get(bias_constraint, argument="bias_constraint")


def projection_config(layer) -> dict:
    """The serialized arguments :func:`set_projection_args` stored, for ``get_config``."""
    return {
        "kernel_initializer": initializers.serialize(layer.kernel_initializer),
        "bias_initializer": initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": regularizers.serialize(layer.kernel_regularizer),
        "bias_regularizer": regularizers.serialize(layer.bias_regularizer),
        "kernel_constraint": constraints.serialize(layer.kernel_constraint),
        "bias_constraint": constraints.serialize(layer.bias_constraint),
    }
