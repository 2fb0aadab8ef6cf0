"""The functional API: ``Model(inputs, outputs)`` over a graph of layer calls.

Calling a layer on symbolic tensors (``easynn.Input``) records a ``Node`` (see
``layers/symbolic.py``). ``Functional`` walks those nodes back from the outputs once, at
construction, and keeps:

    * the layers, each once (a layer called twice shares its weights), in topological order with
      the ``InputLayer``s first, registered in an ``nn.ModuleList`` so that ``parameters()``,
      ``state_dict()``, ``weights`` and ``.to(device)`` see them;
    * a plan: the nodes in topological order, each with the slots its inputs are read from and
      the slots its outputs are written to. ``call`` replays the plan on real tensors.

Example:
    >>> import torch, easynn
    >>> from easynn.layers import Concatenate, Dense
    >>> inputs = easynn.Input(shape=(4,), name="features")
    >>> a = Dense(3, name="branch_a")(inputs)
    >>> b = Dense(2, name="branch_b")(inputs)
    >>> outputs = Dense(1, name="head")(Concatenate()([a, b]))
    >>> model = easynn.Model(inputs, outputs, name="two_branches")
    >>> model(torch.zeros(5, 4)).shape
    torch.Size([5, 1])
    >>> [layer.name for layer in model.layers][:3]
    ['features', 'branch_a', 'branch_b']
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from easynn.layers.base import Layer
from easynn.layers.core import InputLayer
from easynn.layers.symbolic import STRING, Node, SymbolicTensor, _flatten, _map
from easynn.models.model import Model, register_functional_class
from easynn.saving.registry import register_builtin

__all__ = ["Functional"]


def _as_tensor_list(value, what: str) -> tuple[list[SymbolicTensor], bool]:
    """``(flat list, was_a_list)``; raises a TypeError for anything but symbolic tensors."""
    single = isinstance(value, SymbolicTensor)
    items = [value] if single else value
    if not isinstance(items, (list, tuple)) or not items:
        raise TypeError(
            f"`{what}` must be a symbolic tensor (from easynn.Input or a layer call) or a non-empty list of "
            f"them. Received: {what}={value!r}"
        )
    for index, item in enumerate(items):
        if not isinstance(item, SymbolicTensor):
            raise TypeError(
                f"`{what}` must hold symbolic tensors made by easynn.Input(...) and layer calls. "
                f"Received {what}[{index}]={item!r} of type {type(item).__name__}."
            )
    return list(items), not single


def _producer(tensor: SymbolicTensor) -> str:
    if tensor.node is not None:
        return f"the output of layer '{getattr(tensor.node.layer, 'name', tensor.node.layer)}'"
    layer = getattr(tensor, "input_layer", None)
    return f"the input '{layer.name}'" if layer is not None else repr(tensor)


@register_builtin
@register_functional_class
class Functional(Model):
    """A model defined by a graph of layer calls: ``Model(inputs=..., outputs=...)``.

    Args:
        inputs: an ``easynn.Input(...)`` tensor or a list of them.
        outputs: a symbolic tensor computed from ``inputs`` by layer calls, or a list of them.
        name: the model's name.
        trainable: whether ``fit`` updates the weights.

    Call arguments:
        inputs: a tensor for a single-input model; a list (in the order of ``model.inputs``) or a
            dict keyed by input name for several inputs.
        training: run layers in training mode (dropout on); the module's mode when ``None``.

    Returns:
        Called on tensors: a tensor, or a list of tensors when ``outputs`` was a list.

    Raises:
        TypeError: if ``inputs``/``outputs`` are not symbolic tensors.
        ValueError: if an output cannot be computed from ``inputs`` (graph disconnected), or two
            different layers share a name.

    Example:
        >>> import easynn
        >>> x = easynn.Input(shape=(3,), name="features")
        >>> model = easynn.Model(x, easynn.layers.Dense(2)(x))
        >>> model.output_shape
        (None, 2)
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True, **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        # A dict of inputs (Keras 3): data given as a dict is matched by these keys.
        self._input_keys = list(inputs) if isinstance(inputs, dict) else None
        if self._input_keys is not None:
            inputs = [inputs[key] for key in self._input_keys]
        self.inputs, self._inputs_listed = _as_tensor_list(inputs, "inputs")
        # A dict of outputs (Keras 3): the model returns a dict, and the keys name the outputs.
        self._output_keys = list(outputs) if isinstance(outputs, dict) else None
        if self._output_keys is not None:
            outputs = [outputs[key] for key in self._output_keys]
        self.outputs, self._outputs_listed = _as_tensor_list(outputs, "outputs")
        self._input_layers: list[InputLayer] = []
        # Keras 3: an intermediate tensor given as an input cuts the graph there; a new Input of its
        # shape and dtype stands for it (the model starts at that tensor, e.g. FeatureSpace's
        # encoded features). id(intermediate tensor) -> the stand-in.
        self._cut_inputs: dict[int, SymbolicTensor] = {}
        for index, tensor in enumerate(list(self.inputs)):
            layer = getattr(tensor, "input_layer", None)
            if tensor.node is not None:
                stand_in = InputLayer(shape=tensor.shape[1:], dtype=tensor.dtype).output
                self._cut_inputs[id(tensor)] = stand_in
                self.inputs[index], layer = stand_in, stand_in.input_layer
            elif layer is None:
                raise ValueError(
                    f"Model inputs must be tensors returned by easynn.Input(...) or layer calls. inputs[{index}] "
                    f"is {_producer(tensor)}."
                )
            if layer in self._input_layers:
                raise ValueError(f"The input '{layer.name}' is listed twice in `inputs`.")
            self._input_layers.append(layer)
        nodes = self._topological_nodes()
        layers: list[Layer] = list(self._input_layers)
        for node in nodes:
            if not any(node.layer is known for known in layers):
                layers.append(node.layer)
        self._check_unique_names(layers)
        self._layers = nn.ModuleList(layers)
        self._make_plan(nodes)
        self._input_layer = self._input_layers[0] if len(self._input_layers) == 1 else None
        shapes = [tuple(t.shape) for t in self.inputs]
        self._build_input_shape = shapes if self._inputs_listed else shapes[0]
        self.output_names = self._unique_output_names()
        self.built = True

    # ------------------------------------------------------------------ the graph
    def _topological_nodes(self) -> list[Node]:
        """Nodes needed for the outputs, each once, every node after the nodes it reads."""
        done: set[int] = set()
        order: list[Node] = []
        input_ids = {id(t) for t in self.inputs} | set(self._cut_inputs)

        def parents(node: Node) -> list[Node]:
            found = []
            for tensor in _flatten(node.inputs):
                if not isinstance(tensor, SymbolicTensor) or id(tensor) in self._cut_inputs:
                    continue
                if tensor.node is None:
                    if id(tensor) not in input_ids:
                        raise ValueError(
                            f"Graph disconnected: layer '{node.layer.name}' reads {_producer(tensor)}, which is "
                            f"not among the model's inputs {[layer.name for layer in self._input_layers]}. "
                            "Add it to `inputs`."
                        )
                    continue
                found.append(tensor.node)
            return found

        for tensor in self.outputs:
            if id(tensor) in self._cut_inputs:
                continue
            if tensor.node is None:
                if id(tensor) not in input_ids:
                    raise ValueError(
                        f"Graph disconnected: the output {_producer(tensor)} is not among the model's inputs."
                    )
                continue
            if id(tensor.node) in done:
                continue
            stack = [(tensor.node, iter(parents(tensor.node)))]
            on_stack = {id(tensor.node)}
            while stack:
                node, pending = stack[-1]
                parent = next(pending, None)
                if parent is None:
                    stack.pop()
                    on_stack.discard(id(node))
                    done.add(id(node))
                    order.append(node)
                elif id(parent) not in done and id(parent) not in on_stack:
                    on_stack.add(id(parent))
                    stack.append((parent, iter(parents(parent))))
        return order

    @staticmethod
    def _check_unique_names(layers: list) -> None:
        seen: dict[str, Any] = {}
        for layer in layers:
            if layer.name in seen:
                raise ValueError(
                    f"The name '{layer.name}' is used by two different layers in the model. All layer names "
                    "must be unique: pass name=... to one of them."
                )
            seen[layer.name] = layer

    def _make_plan(self, nodes: list[Node]) -> None:
        """Number every tensor (a slot), and record which slots each node reads and writes."""
        slots: dict[int, int] = {}
        for tensor in self.inputs:
            slots[id(tensor)] = len(slots)
        for cut, stand_in in self._cut_inputs.items():  # nodes read the tensor the stand-in replaces
            slots[cut] = slots[id(stand_in)]
        self._node_index: dict[Node, tuple[Layer, int]] = {}  # node -> (layer, index among its calls); by identity
        calls: dict[int, int] = {}
        self._plan = []
        for node in nodes:
            index = calls.get(id(node.layer), 0)
            calls[id(node.layer)] = index + 1
            self._node_index[node] = (node.layer, index)
            reads = _map(node.inputs, lambda t: slots[id(t)] if isinstance(t, SymbolicTensor) else _Const(t))
            writes = []
            for tensor in node.outputs:
                slots[id(tensor)] = len(slots)
                writes.append(slots[id(tensor)])
            self._plan.append((node.layer, reads, dict(node.kwargs), writes))
        self._nodes = nodes
        self._num_slots = len(slots)
        self._input_slots = [slots[id(t)] for t in self.inputs]
        self._output_slots = [slots[id(t)] for t in self.outputs]

    def _ref(self, tensor: SymbolicTensor) -> list:
        """``[layer_name, node_index, tensor_index]``: where ``tensor`` comes from (Keras's notation)."""
        tensor = self._cut_inputs.get(id(tensor), tensor)
        if tensor.node is None:
            return [tensor.input_layer.name, 0, 0]
        layer, index = self._node_index[tensor.node]
        return [layer.name, index, tensor.index]

    def _unique_output_names(self) -> list[str]:
        if self._output_keys is not None:
            return [str(key) for key in self._output_keys]
        names: list[str] = []
        for tensor in self.outputs:
            base = self._ref(tensor)[0]
            name, count = base, 1
            while name in names:
                name, count = f"{base}_{count}", count + 1
            names.append(name)
        return names

    # ------------------------------------------------------------------ running
    def _inputs_to_list(self, inputs) -> list:
        count = len(self.inputs)
        if isinstance(inputs, dict):
            names = [layer.name for layer in self._input_layers]
            if self._input_keys is not None and not all(n in inputs for n in names):
                names = self._input_keys  # the dict keys the model was built with
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs named {names}; missing {missing}.")
            return [inputs[n] for n in names]
        if count == 1 and self._input_layers[0].input_dtype is STRING:  # text: a list of str is one batch
            return [inputs]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != count:
                raise ValueError(
                    f"Model '{self.name}' expects {count} input(s) "
                    f"({', '.join(layer.name for layer in self._input_layers)}), but it received "
                    f"{len(inputs)} input tensors."
                )
            return list(inputs)
        if count != 1:
            raise ValueError(
                f"Model '{self.name}' expects {count} inputs "
                f"({', '.join(layer.name for layer in self._input_layers)}) as a list, but it received one tensor."
            )
        return [inputs]

    def _check_input(self, index: int, layer: InputLayer, value):
        if layer.input_dtype is STRING:  # text: InputLayer.call checks the strings (no torch tensor)
            return value
        if not isinstance(value, torch.Tensor):
            value = torch.as_tensor(value)
        expected = (None,) + tuple(layer.shape)
        shape = tuple(value.shape)
        if len(shape) != len(expected) or any(e is not None and e != s for e, s in zip(expected, shape)):
            raise ValueError(
                f"Input {index} ('{layer.name}') of model '{self.name}' is incompatible: expected shape "
                f"{expected}, but received shape {shape}."
            )
        if layer.input_dtype.is_floating_point and not value.is_floating_point():
            value = value.to(layer.input_dtype)
        return value

    def _run(self, inputs, training=None):
        values: list = [None] * self._num_slots
        for index, (slot, layer, value) in enumerate(zip(self._input_slots, self._input_layers, self._inputs_to_list(inputs))):
            values[slot] = layer(self._check_input(index, layer, value))
        read = lambda r: r.value if isinstance(r, _Const) else values[r]  # noqa: E731
        for layer, reads, kwargs, writes in self._plan:
            args = _map(reads, read)
            if training is not None and "training" not in kwargs:
                kwargs = {**kwargs, "training": training}
            outputs = layer(args, **kwargs)
            flat = _flatten(outputs)
            if len(flat) != len(writes):
                raise RuntimeError(
                    f"Layer '{layer.name}' returned {len(flat)} tensors, but {len(writes)} when the model was built."
                )
            for slot, value in zip(writes, flat):
                values[slot] = value
        results = [values[slot] for slot in self._output_slots]
        if self._output_keys is not None:
            return dict(zip(self._output_keys, results))
        return results if self._outputs_listed else results[0]

    def call(self, inputs, training=None):
        return self._run(inputs, training=training)

    def final_activation(self) -> str | None:
        """The output layer's ``"softmax"``/``"sigmoid"`` for a single-output model, else ``None``."""
        if len(self.outputs) != 1 or self._outputs_listed or not self._plan:
            return None
        node = self._nodes[-1]
        if self.outputs[0].node is not node or len(node.outputs) != 1:
            return None
        return node.layer.final_activation()

    # ------------------------------------------------------------------ introspection
    @property
    def layers(self) -> list:
        """The layers in topological order, the ``InputLayer``s first (each layer once)."""
        return list(self._layers)

    @property
    def input_names(self) -> list[str]:
        return [layer.name for layer in self._input_layers]

    @property
    def input(self):
        """The symbolic input as given to the constructor (a tensor or a list)."""
        if self._input_keys is not None:
            return dict(zip(self._input_keys, self.inputs))
        return list(self.inputs) if self._inputs_listed else self.inputs[0]

    @property
    def output(self):
        """The symbolic output as given to the constructor (a tensor or a list)."""
        return list(self.outputs) if self._outputs_listed else self.outputs[0]

    @property
    def input_shape(self):
        """``(None, ...)``, or a list of such shapes for several inputs."""
        shapes = [tuple(t.shape) for t in self.inputs]
        return shapes if self._inputs_listed else shapes[0]

    @property
    def output_shape(self):
        """``(None, ...)``, or a list of such shapes for several outputs."""
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes if self._outputs_listed else shapes[0]

    def build(self, input_shape) -> None:  # the graph is built at construction
        pass

    def layer_connections(self) -> dict[int, list[str]]:
        """``{id(layer): ["dense[0][0]", ...]}``: what each layer reads, for ``summary()``."""
        connections: dict[int, list[str]] = {id(layer): ["-"] for layer in self._input_layers}
        for node in self._nodes:
            refs = [self._ref(t) for t in _flatten(node.inputs) if isinstance(t, SymbolicTensor)]
            connections.setdefault(id(node.layer), []).extend(f"{n}[{i}][{j}]" for n, i, j in refs)
        return connections

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """The graph as plain data: each layer's config and, per call, where its inputs come from.

        Returns:
            ``{"name", "trainable", "layers": [{"class_name", "config", "name", "inbound_nodes"}],
            "input_layers", "output_layers"}``. Each entry of ``inbound_nodes`` is one call of the
            layer: ``{"inputs": ref-or-list-of-refs, "kwargs": {...}}`` with a ref
            ``[layer_name, node_index, tensor_index]``.
        """
        from easynn import saving

        inbound: dict[int, list] = {}
        for node in self._nodes:
            refs = _map(node.inputs, lambda t: self._ref(t) if isinstance(t, SymbolicTensor) else t)
            inbound.setdefault(id(node.layer), []).append({"inputs": _lists(refs), "kwargs": dict(node.kwargs)})
        layers = []
        for layer in self._layers:
            spec = dict(saving.serialize_layer(layer))
            spec["name"] = layer.name
            spec["inbound_nodes"] = inbound.get(id(layer), [])
            layers.append(spec)
        in_refs = [self._ref(t) for t in self.inputs]
        out_refs = [self._ref(t) for t in self.outputs]
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layers,
            "input_layers": (dict(zip(self._input_keys, in_refs)) if self._input_keys is not None
                             else in_refs if self._inputs_listed else in_refs[0]),
            "output_layers": (dict(zip(self._output_keys, out_refs)) if self._output_keys is not None
                              else out_refs if self._outputs_listed else out_refs[0]),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Functional":
        """Rebuild the graph of ``get_config()``: new layers, called on symbolic tensors in order.

        Raises:
            ValueError: if the config refers to a layer or call that it does not define.
        """
        from easynn import saving

        made: dict[tuple[str, int], list] = {}  # (layer name, node index) -> its symbolic outputs
        pending = []
        for spec in config["layers"]:
            layer_spec = {k: v for k, v in spec.items() if k not in ("name", "inbound_nodes")}
            layer = saving.deserialize_layer(layer_spec, custom_objects)
            if isinstance(layer, InputLayer):
                made[(spec["name"], 0)] = [layer.output]
            for index, node in enumerate(spec.get("inbound_nodes", [])):
                pending.append((layer, spec["name"], index, node))

        def ready(refs) -> bool:
            if _is_ref(refs):
                return (refs[0], refs[1]) in made
            return all(ready(r) for r in refs)

        def resolve(refs):
            if _is_ref(refs):
                name, node_index, tensor_index = refs
                return made[(name, node_index)][tensor_index]
            return [resolve(r) for r in refs]

        # Nodes wait until their inputs exist (a shared layer's second call may need later layers).
        while pending:
            progress = False
            for item in list(pending):
                layer, name, index, node = item
                if (index == 0 or (name, index - 1) in made) and ready(node["inputs"]):
                    outputs = layer(resolve(node["inputs"]), **node.get("kwargs", {}))
                    made[(name, index)] = _flatten(outputs)
                    pending.remove(item)
                    progress = True
            if not progress:
                missing = sorted({f"{name}[{index}]" for _, name, index, _ in pending})
                raise ValueError(f"The model config cannot be rebuilt: the calls {missing} read tensors it never defines.")

        def lookup(refs):
            if isinstance(refs, dict):
                return {key: lookup(value) for key, value in refs.items()}
            if _is_ref(refs):
                key = (refs[0], refs[1])
                if key not in made:
                    raise ValueError(f"The model config names an unknown tensor {refs}.")
                return made[key][refs[2]]
            return [lookup(r) for r in refs]

        return cls(lookup(config["input_layers"]), lookup(config["output_layers"]),
                   name=config.get("name"), trainable=config.get("trainable", True))


class _Const:
    """A non-tensor value recorded in a node's inputs (kept as is when the node runs)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _is_ref(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str)


def _lists(value):
    """Tuples to lists, so configs compare equal after a JSON round trip."""
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value
