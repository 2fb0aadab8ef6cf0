"""The masks half of ``Layer``: Keras 3's rules for who makes, receives and passes on masks.

A mask is a bool ``(batch, timesteps)`` tensor carried by a tensor as ``_keras_mask``
(``Embedding(mask_zero=True)`` and ``Masking`` make them). ``MaskingMixin`` gives a layer
``supports_masking``, ``compute_mask`` and the masked call path; ``layer._masking`` says, once per
layer, how much of that path its calls need (nothing, for a layer whose input has no mask).
"""

from __future__ import annotations

import inspect

import torch

from easynn.layers._layer_utils import warn_if_mask_dropped

__all__ = ["MaskingMixin"]

_MASK_ARGS: dict = {}


def _call_arg_names(cls) -> tuple:
    """The names of ``cls.call``'s arguments, without ``self``."""
    try:
        params = inspect.signature(cls.call).parameters
    except (TypeError, ValueError):  # pragma: no cover - a call without a signature
        return ()
    return tuple(name for name in params if name != "self")


def _call_mask_args(cls) -> tuple:
    """The mask arguments ``cls.call`` declares: ``mask`` and ``<input>_mask`` (cached per class)."""
    found = _MASK_ARGS.get(cls)
    if found is None:
        names = _call_arg_names(cls)
        found = _MASK_ARGS[cls] = tuple(
            n for n in names if n == "mask" or (n.endswith("_mask") and n[: -len("_mask")] in names)
        )
    return found


def _mask_of(value):
    """``value._keras_mask``; for a list of tensors the list of their masks (``None`` if none has one)."""
    if isinstance(value, (list, tuple)):
        masks = [getattr(v, "_keras_mask", None) for v in value]
        return masks if any(m is not None for m in masks) else None
    return getattr(value, "_keras_mask", None)


_NO_MASKS, _PROPAGATES_MASKS, _READS_MASKS = 0, 1, 2


class _MaskingFlag:
    """``layer._masking``: how much the call must do about masks.

    * ``_NO_MASKS`` (0): the layer neither takes nor propagates masks;
    * ``_PROPAGATES_MASKS`` (1): it passes an input's mask on unchanged (``supports_masking`` with
      Layer's own ``compute_mask`` and no mask argument): work only when the input has a mask;
    * ``_READS_MASKS`` (2): its ``call`` takes a mask argument or it computes its own masks.

    Computed at the first call and kept in the layer's ``__dict__``, so that later reads are a
    plain attribute read; setting ``supports_masking`` clears it."""

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        cls = type(layer)
        if _call_mask_args(cls) or (layer.supports_masking and cls.compute_mask is not MaskingMixin.compute_mask):
            flag = _READS_MASKS
        else:
            flag = _PROPAGATES_MASKS if layer.supports_masking else _NO_MASKS
        layer.__dict__["_masking"] = flag
        return flag


class MaskingMixin:
    """``supports_masking``, ``compute_mask`` and the call of a layer that takes or passes on
    masks (mixed into ``Layer``)."""

    _masking = _MaskingFlag()

    @property
    def supports_masking(self) -> bool:
        """Whether the output mask is ``compute_mask(inputs, mask)`` (else masks stop here).

        ``False`` by default, as in Keras 3, except for a layer that overrides ``compute_mask``.
        Layers that keep the time axis step by step (``Dense``, ``Dropout``, activations,
        normalizations, RNNs with ``return_sequences``) set it to ``True``; a user layer opts in
        with ``self.supports_masking = True``.
        """
        value = self.__dict__.get("_supports_masking")
        if value is None:
            return type(self).compute_mask is not MaskingMixin.compute_mask
        return value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self.__dict__["_supports_masking"] = bool(value)
        self.__dict__.pop("_masking", None)  # recomputed at the next call

    def compute_mask(self, inputs, mask=None):
        """The output mask for ``inputs`` whose mask is ``mask`` (bool ``(batch, timesteps)``).

        By default the mask passes through unchanged when ``supports_masking`` is true, and is
        dropped (``None``) otherwise. Mask-generating layers (``Embedding(mask_zero=True)``,
        ``Masking``) and layers that change the time axis override it.
        """
        return mask if self.supports_masking else None

    def _call_with_masks(self, args: tuple, kwargs: dict):
        """The call of a layer that takes or propagates masks (``self._masking``), as Keras 3:

        * a ``mask`` argument of ``call`` left unset receives the first input's ``_keras_mask``
          (a list of masks for a list of inputs); without ``mask``, each ``<name>_mask`` argument
          (``query_mask`` of ``MultiHeadAttention``) receives the mask of the tensor passed as
          ``<name>`` (or at ``<name>``'s position in a list, as the functional API passes them);
        * after the call, with ``supports_masking``, each output without a mask of its own gets
          ``compute_mask(first_input, its_mask)`` as ``_keras_mask``.
        """
        cls = type(self)
        first = args[0] if args else next((v for v in kwargs.values() if isinstance(v, torch.Tensor)), None)
        mask = _mask_of(first)
        mask_args = _call_mask_args(cls)
        if mask is None and not mask_args and cls.compute_mask is MaskingMixin.compute_mask:
            return super().__call__(*args, **kwargs)  # a mask-propagating layer on unmasked data
        if mask_args:
            if "mask" in mask_args and kwargs.get("mask") is None and mask is not None:
                kwargs["mask"] = mask
            if "mask" not in mask_args:
                names = _call_arg_names(cls)
                # The functional API packs several tensor arguments into one list: [query, value].
                packed = len(args) == 1 and isinstance(args[0], (list, tuple))
                named = dict(zip(names, args[0] if packed else args))
                named.update((k, v) for k, v in kwargs.items() if k in names)
                for name, value in named.items():
                    key = f"{name}_mask"
                    if key in mask_args and kwargs.get(key) is None:
                        value_mask = _mask_of(value)
                        if value_mask is not None:
                            kwargs[key] = value_mask
        outputs = super().__call__(*args, **kwargs)
        if not self.supports_masking or (mask is None and cls.compute_mask is MaskingMixin.compute_mask):
            if not self.supports_masking:  # takes a mask but does not pass it on: Keras warns
                warn_if_mask_dropped(self, first)
            return outputs
        flat = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        if all(getattr(t, "_keras_mask", None) is not None for t in flat):
            return outputs  # the layer set its own output masks
        masks = self.compute_mask(first, mask)
        if masks is None:
            return outputs
        for tensor, out_mask in zip(flat, masks if isinstance(masks, (list, tuple)) else [masks]):
            if out_mask is not None and isinstance(tensor, torch.Tensor) and getattr(tensor, "_keras_mask", None) is None:
                tensor._keras_mask = out_mask
        return outputs
