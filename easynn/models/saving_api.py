"""Saving methods of ``Model``: ``save``/``save_weights``/``load_weights``, JSON, export, and the
compile-config hooks, all delegating to ``easynn.saving`` (which never imports the models)."""

from __future__ import annotations

__all__ = ["SavingMixin"]


class SavingMixin:
    """Keras's saving surface of a model (mixed into ``Model``)."""

    def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
        """Save architecture, weights and compile state (see ``easynn.saving``).

        Under torchrun, call it on every process: rank 0 writes, then all wait at a barrier, so
        the file is complete when any process goes on (to ``load_weights`` it, say).
        """
        from easynn import distribute, saving

        if distribute.is_main_process():
            saving.save_model(self, filepath, overwrite=overwrite, **kwargs)
        if distribute.is_distributed():
            distribute.barrier()

    def to_json(self, **kwargs) -> str:
        """The model's architecture as a JSON string (``easynn.models.model_from_json`` reads it)."""
        from easynn.saving import json_api

        return json_api.to_json(self, **kwargs)

    def export(self, filepath=None, format: str = "torch", **kwargs):
        """Export for deployment: a ``torch.export.ExportedProgram`` (``format="torch"``) or ONNX."""
        from easynn.saving import export

        return export.export_model(self, filepath, format=format, **kwargs)

    def get_compile_config(self) -> dict | None:
        """The arguments of the last ``compile`` as JSON (``None`` when never compiled)."""
        from easynn.saving import compile_state

        return compile_state.serialize_compile(self)

    def compile_from_config(self, config: dict) -> None:
        """``compile`` again from ``get_compile_config()``'s output."""
        from easynn.saving import compile_state

        self.compile(**compile_state.deserialize_compile(config, None))

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights alone (safetensors; no code in the file).

        Under torchrun, call it on every process: rank 0 writes, then all wait at a barrier.
        """
        from easynn import distribute, saving

        if distribute.is_main_process():
            saving.save_weights(self, filepath, overwrite=overwrite)
        if distribute.is_distributed():
            distribute.barrier()

    def load_weights(self, filepath, skip_mismatch: bool = False) -> None:
        """Load weights saved by ``save_weights`` (or ``save``) into this model.

        Every process reads the file itself (onto its own device); files written by ``save`` or
        ``save_weights`` under torchrun are complete by then (those end in a barrier).
        """
        from easynn import saving

        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)
