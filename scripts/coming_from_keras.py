"""Write docs/coming_from_keras.md: which names of Keras 3's public API easynn has, and which it lacks.

The reference list below (``KERAS_API``) holds the public names of Keras 3, namespace by namespace,
as exported by Keras's ``keras/api/<namespace>/__init__.py`` files. For every name the script asks
the installed easynn whether ``easynn.<namespace>`` has it (``keras.layers.Dense`` ->
``hasattr(easynn.layers, "Dense")``) and writes one Markdown section per namespace.

Usage (from the repository root)::

    python scripts/coming_from_keras.py > docs/coming_from_keras.md
    python scripts/coming_from_keras.py --write     # same, writes the file itself
    python scripts/coming_from_keras.py --check     # exit status 1 when the committed page is stale

tests/test_coming_from_keras.py regenerates the page and fails when it differs from the committed
one, so a name added to (or removed from) easynn without regenerating is caught.

A name present in easynn is counted as supported; the page says nothing about how complete each
argument list is (the tests of each module check that).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "coming_from_keras.md"
REGENERATE = "python scripts/coming_from_keras.py --write"

# The name lists stay packed (one name a line would make them 1,200 lines long).
# fmt: off
# ---------------------------------------------------------------------------------------------
# Keras 3's public names. keras.ops re-exports the functions of its sub-namespaces, so those are
# written once here and combined below.
# ---------------------------------------------------------------------------------------------

_OPS_CORE = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient",
    "dtype", "fori_loop", "is_tensor", "map", "saturate_cast", "scan", "scatter", "scatter_update",
    "shape", "slice", "slice_update", "stop_gradient", "switch", "unstack", "vectorized_map",
    "while_loop", "rearrange",
]
_OPS_MATH = [
    "erf", "erfinv", "extract_sequences", "fft", "fft2", "ifft2", "in_top_k", "irfft", "istft",
    "logdet", "logsumexp", "rfft", "rsqrt", "segment_max", "segment_sum", "stft", "top_k",
    "view_as_complex", "view_as_real",
]
_OPS_LINALG = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "norm", "qr", "solve", "solve_triangular", "svd",
]
_OPS_NN = [
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "celu", "conv", "conv_transpose",
    "ctc_decode", "ctc_loss", "depth_to_space", "depthwise_conv", "dot_product_attention", "elu",
    "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool", "moments",
    "multi_hot", "normalize", "one_hot", "polar", "psnr", "relu", "relu6", "rms_normalization",
    "selu", "separable_conv", "sigmoid", "silu", "swish", "soft_shrink", "softmax", "softplus",
    "softsign", "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink", "threshold", "unfold",
]
_OPS_NUMPY = [
    "abs", "absolute", "add", "all", "amax", "amin", "angle", "any", "append", "arange", "arccos",
    "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin",
    "argpartition", "argsort", "array", "array_split", "average", "bartlett", "bincount",
    "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "blackman", "broadcast_to", "cbrt", "ceil", "clip",
    "concatenate", "conj", "conjugate", "copy", "corrcoef", "correlate", "cos", "cosh",
    "count_nonzero", "cross", "cumprod", "cumsum", "deg2rad", "diag", "diagflat", "diagonal",
    "diff", "digitize", "divide", "divide_no_nan", "dot", "dstack", "einsum", "empty", "empty_like",
    "equal", "exp", "exp2", "expand_dims", "expm1", "eye", "flip", "floor", "floor_divide", "full",
    "full_like", "gcd", "get_item", "greater", "greater_equal", "hamming", "hanning", "heaviside",
    "histogram", "hstack", "hypot", "identity", "imag", "inner", "isclose", "isfinite", "isin",
    "isinf", "isnan", "isneginf", "isposinf", "isreal", "kaiser", "kron", "lcm", "ldexp",
    "left_shift", "less", "less_equal", "linspace", "log", "log1p", "log2", "log10", "logaddexp",
    "logaddexp2", "logical_and", "logical_not", "logical_or", "logical_xor", "logspace", "matmul",
    "max", "maximum", "mean", "median", "meshgrid", "min", "minimum", "mod", "moveaxis", "multiply",
    "nan_to_num", "nanmax", "nanmean", "nanmin", "nanprod", "nansum", "ndim", "negative",
    "nextafter", "nonzero", "not_equal", "ones", "ones_like", "outer", "pad", "power", "prod",
    "ptp", "quantile", "ravel", "real", "reciprocal", "repeat", "reshape", "right_shift", "roll",
    "rot90", "round", "searchsorted", "select", "sign", "signbit", "sin", "sinh", "size", "slogdet",
    "sort", "split", "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swapaxes",
    "take", "take_along_axis", "tan", "tanh", "tensordot", "tile", "trace", "transpose",
    "trapezoid", "tri", "tril", "triu", "true_divide", "trunc", "unravel_index", "vander", "var",
    "vdot", "vectorize", "view", "vsplit", "vstack", "where", "zeros", "zeros_like",
]
_OPS_IMAGE = [
    "affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d",
    "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform",
    "reconstruct_patches", "reconstruct_patches_3d", "resize", "rgb_to_grayscale", "rgb_to_hsv",
    "scale_and_translate", "sobel_edges", "ssim",
]
_LOSS_FUNCTIONS = [
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber", "kl_divergence",
    "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy", "squared_hinge",
]

KERAS_API: dict[str, list[str]] = {
    "keras": [
        # sub-namespaces
        "activations", "applications", "backend", "callbacks", "config", "constraints", "datasets",
        "distribution", "dtype_policies", "export", "initializers", "layers", "losses", "metrics",
        "mixed_precision", "models", "ops", "optimizers", "preprocessing", "quantizers", "random",
        "regularizers", "saving", "tree", "utils", "visualization", "wrappers",
        # names at the top level
        "DTypePolicy", "FloatDTypePolicy", "Function", "Initializer", "Input", "InputSpec",
        "KerasTensor", "Layer", "Loss", "Metric", "Model", "Operation", "Optimizer", "Quantizer",
        "Regularizer", "Sequential", "StatelessScope", "SymbolicScope", "Variable", "device",
        "name_scope", "version", "__version__",
    ],
    "keras.layers": [
        "Activation", "ActivityRegularization", "Add", "AdditiveAttention", "Attention", "AugMix",
        "AutoContrast", "Average", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
        "AvgPool1D", "AvgPool2D", "AvgPool3D", "BatchNormalization", "Bidirectional",
        "CategoryEncoding", "CenterCrop", "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D",
        "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
        "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose",
        "Convolution3D", "Convolution3DTranspose", "Cropping1D", "Cropping2D", "Cropping3D",
        "CutMix", "Dense", "DepthwiseConv1D", "DepthwiseConv2D", "Discretization", "Dot", "Dropout",
        "ELU", "EinsumDense", "Embedding", "Equalization", "FlaxLayer", "Flatten", "GRU", "GRUCell",
        "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
        "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
        "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
        "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GroupNormalization", "GroupQueryAttention",
        "HashedCrossing", "Hashing", "Identity", "Input", "InputLayer", "InputSpec",
        "IntegerLookup", "JaxLayer", "LSTM", "LSTMCell", "Lambda", "Layer", "LayerNormalization",
        "LeakyReLU", "Masking", "MaxNumBoundingBoxes", "MaxPool1D", "MaxPool2D", "MaxPool3D",
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum", "MelSpectrogram", "Minimum",
        "MixUp", "MultiHeadAttention", "Multiply", "Normalization", "PReLU", "Permute", "Pipeline",
        "RMSNormalization", "RNN", "RandAugment", "RandomBrightness", "RandomColorDegeneration",
        "RandomColorJitter", "RandomContrast", "RandomCrop", "RandomElasticTransform",
        "RandomErasing", "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
        "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation",
        "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom",
        "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "STFTSpectrogram",
        "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
        "SimpleRNN", "SimpleRNNCell", "Softmax", "Solarization", "SpatialDropout1D",
        "SpatialDropout2D", "SpatialDropout3D", "SpectralNormalization", "StackedRNNCells",
        "StringLookup", "Subtract", "TFSMLayer", "TextVectorization", "TimeDistributed",
        "TorchModuleWrapper", "UnitNormalization", "UpSampling1D", "UpSampling2D", "UpSampling3D",
        "Wrapper", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "add", "average",
        "concatenate", "deserialize", "dot", "maximum", "minimum", "multiply", "serialize",
        "subtract",
    ],
    "keras.ops": _OPS_CORE + _OPS_MATH + _OPS_LINALG + _OPS_NN + _OPS_NUMPY + ["image", "linalg", "nn", "numpy"],
    "keras.ops.nn": _OPS_NN,
    "keras.ops.numpy": _OPS_NUMPY,
    "keras.ops.linalg": _OPS_LINALG,
    "keras.ops.image": _OPS_IMAGE,
    "keras.activations": [
        "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink",
        "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear",
        "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid",
        "silu", "soft_shrink", "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid",
        "sparsemax", "squareplus", "swish", "tanh", "tanh_shrink", "threshold",
    ],
    "keras.losses": [
        "BinaryCrossentropy", "BinaryFocalCrossentropy", "CTC", "CategoricalCrossentropy",
        "CategoricalFocalCrossentropy", "CategoricalHinge", "Circle", "CosineSimilarity", "Dice",
        "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss", "MeanAbsoluteError",
        "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
        "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky", "circle", "cosine_similarity",
        "ctc", "deserialize", "dice", "get", "serialize", "tversky",
    ]
    + _LOSS_FUNCTIONS,
    "keras.metrics": [
        "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU",
        "CategoricalAccuracy", "CategoricalCrossentropy", "CategoricalHinge",
        "ConcordanceCorrelation", "CosineSimilarity", "F1Score", "FBetaScore", "FalseNegatives",
        "FalsePositives", "Hinge", "IoU", "KLDivergence", "LogCoshError", "Mean",
        "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU", "MeanMetricWrapper",
        "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric", "OneHotIoU", "OneHotMeanIoU",
        "PearsonCorrelation", "Poisson", "Precision", "PrecisionAtRecall", "R2Score", "Recall",
        "RecallAtPrecision", "RootMeanSquaredError", "SensitivityAtSpecificity",
        "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
        "SparseTopKCategoricalAccuracy", "SpecificityAtSensitivity", "SquaredHinge", "Sum",
        "TopKCategoricalAccuracy", "TrueNegatives", "TruePositives", "binary_accuracy",
        "categorical_accuracy", "concordance_correlation", "deserialize", "get",
        "pearson_correlation", "serialize", "sparse_categorical_accuracy",
        "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
    ]
    + _LOSS_FUNCTIONS,
    "keras.optimizers": [
        "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion",
        "LossScaleOptimizer", "Muon", "Nadam", "Optimizer", "RMSprop", "SGD", "deserialize", "get",
        "schedules", "serialize",
    ],
    "keras.optimizers.schedules": [
        "CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
        "LearningRateSchedule", "PiecewiseConstantDecay", "PolynomialDecay", "deserialize",
        "serialize",
    ],
    "keras.callbacks": [
        "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History",
        "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "OrbaxCheckpoint",
        "ProgbarLogger", "ReduceLROnPlateau", "RemoteMonitor", "SwapEMAWeights", "TensorBoard",
        "TerminateOnNaN",
    ],
    "keras.initializers": [
        "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
        "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
        "OrthogonalInitializer", "RandomNormal", "RandomUniform", "STFT", "STFTInitializer",
        "TruncatedNormal", "VarianceScaling", "Zeros", "constant", "deserialize", "get",
        "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal",
        "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform", "serialize",
        "stft", "truncated_normal", "variance_scaling", "zeros",
    ],
    "keras.regularizers": [
        "L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get", "l1",
        "l1_l2", "l2", "orthogonal_regularizer", "serialize",
    ],
    "keras.constraints": [
        "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get",
        "max_norm", "min_max_norm", "non_neg", "serialize", "unit_norm",
    ],
    "keras.models": ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"],
    "keras.saving": [
        "CustomObjectScope", "KerasFileEditor", "custom_object_scope", "deserialize_keras_object",
        "get_custom_objects", "get_registered_name", "get_registered_object", "load_model",
        "load_weights", "register_keras_serializable", "save_model", "save_weights",
        "serialize_keras_object",
    ],
    "keras.utils": [
        "Config", "CustomObjectScope", "FeatureSpace", "Progbar", "PyDataset", "Sequence",
        "array_to_img", "audio_dataset_from_directory", "clear_session", "convert_data_format",
        "convert_to_channels_first", "convert_to_channels_last", "custom_object_scope",
        "deserialize_keras_object", "disable_interactive_logging", "enable_interactive_logging",
        "get_custom_objects", "get_file", "get_registered_name", "get_registered_object",
        "get_source_inputs", "image_dataset_from_directory", "img_to_array",
        "is_interactive_logging_enabled", "is_keras_tensor", "load_img", "model_to_dot",
        "normalize", "pack_x_y_sample_weight", "pad_sequences", "plot_model",
        "register_keras_serializable", "save_img", "serialize_keras_object", "set_random_seed",
        "split_dataset", "standardize_dtype", "text_dataset_from_directory",
        "timeseries_dataset_from_array", "to_categorical", "unpack_x_y_sample_weight",
    ],
    "keras.random": [
        "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint",
        "shuffle", "truncated_normal", "uniform",
    ],
    "keras.config": [
        "backend", "disable_flash_attention", "disable_interactive_logging", "disable_nnx_backend",
        "disable_traceback_filtering", "dtype_policy", "enable_flash_attention",
        "enable_interactive_logging", "enable_nnx_backend", "enable_traceback_filtering",
        "enable_unsafe_deserialization", "epsilon", "floatx", "image_data_format",
        "is_flash_attention_enabled", "is_interactive_logging_enabled", "is_nnx_backend_enabled",
        "is_traceback_filtering_enabled", "max_epochs", "max_steps_per_epoch", "set_backend",
        "set_dtype_policy", "set_epsilon", "set_floatx", "set_image_data_format", "set_max_epochs",
        "set_max_steps_per_epoch",
    ],
    "keras.backend": [
        "backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format",
        "is_float_dtype", "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon",
        "set_floatx", "set_image_data_format", "standardize_dtype",
    ],
    "keras.mixed_precision": [
        "DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",
        "set_dtype_policy", "set_global_policy",
    ],
    "keras.tree": [
        "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
        "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
        "pack_sequence_as", "traverse",
    ],
}

# Names that belong to another backend (JAX, TensorFlow) or to switching backends: they are shown,
# but not counted, because a PyTorch-only library has no use for them.
NOT_APPLICABLE: dict[str, list[str]] = {
    "keras.layers": ["FlaxLayer", "JaxLayer", "TFSMLayer"],
    "keras.callbacks": ["OrbaxCheckpoint"],
    "keras.config": ["disable_nnx_backend", "enable_nnx_backend", "is_nnx_backend_enabled", "set_backend"],
}
# fmt: on


def _sorted(names) -> list[str]:
    # Case-insensitive order, so Dense and dense-like functions sit together; ties broken by case.
    return sorted(set(names), key=lambda n: (n.lower().lstrip("_"), n))


def _easynn_module(namespace: str) -> ModuleType | None:
    """``keras.ops.nn`` -> the module ``easynn.ops.nn`` (attribute access first, as a user writes it)."""
    import easynn

    module: object = easynn
    parts = namespace.split(".")[1:]
    for i, part in enumerate(parts):
        try:
            module = getattr(module, part)
        except AttributeError:
            try:
                module = importlib.import_module("easynn." + ".".join(parts[: i + 1]))
            except ImportError:
                return None
    return module if isinstance(module, ModuleType) else None


def _has(module: ModuleType, name: str) -> bool:
    # easynn.ops.nn and easynn.ops.image raise NotImplementedError (not AttributeError) for Keras
    # names they know they lack, so plain hasattr() would raise instead of answering False.
    try:
        getattr(module, name)
    except (AttributeError, NotImplementedError):
        return False
    return True


def check(namespace: str) -> tuple[list[str], list[str], list[str], bool]:
    """Return (supported, missing, not_applicable, module_exists) for one Keras namespace."""
    module = _easynn_module(namespace)
    not_applicable = set(NOT_APPLICABLE.get(namespace, ()))
    supported, missing = [], []
    for name in _sorted(KERAS_API[namespace]):
        if name in not_applicable:
            continue
        (supported if module is not None and _has(module, name) else missing).append(name)
    return supported, missing, _sorted(not_applicable), module is not None


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"


def render() -> str:
    """The whole Markdown page, as text (deterministic for a given easynn)."""
    # The top level first: checking it must not be influenced by sub-modules imported for later sections.
    results = {ns: check(ns) for ns in KERAS_API}
    total_supported = sum(len(r[0]) for r in results.values())
    total = sum(len(r[0]) + len(r[1]) for r in results.values())
    lines = [
        "# Coming from Keras",
        "",
        "<!-- Generated by scripts/coming_from_keras.py; do not edit by hand. -->",
        "",
        "`import easynn as keras` runs Keras 3 code written against the names below. This page lists,",
        "namespace by namespace, which public names of Keras 3 easynn has (`keras.X.name` is looked up as",
        "`easynn.X.name`) and which it does not have yet. A name counts as supported when it exists in",
        "easynn; the tests of each module check its behaviour against Keras's. Names that only make sense",
        "on another backend (JAX, TensorFlow) are shown but not counted. `keras.ops` holds every function",
        "of `keras.ops.nn`, `keras.ops.numpy` and `keras.ops.linalg` too, so those appear in both places.",
        "",
        "The reference list is Keras 3's export lists (`keras/api/*/__init__.py`), written as data in",
        "the script. After adding or removing a public name, regenerate the page (the test",
        "`tests/test_coming_from_keras.py` fails until you do):",
        "",
        "    python scripts/coming_from_keras.py --write",
        "    # or: python scripts/coming_from_keras.py > docs/coming_from_keras.md",
        "",
        f"In all: **{total_supported} of {total}** names supported.",
        "",
        "| Keras namespace | supported | of | not yet |",
        "|---|---:|---:|---:|",
    ]
    for ns, (supported, missing, _, _) in results.items():
        lines.append(
            f"| [`{ns}`](#{ns.replace('.', '')}) | {len(supported)} | {len(supported) + len(missing)} | {len(missing)} |"
        )
    for ns, (supported, missing, not_applicable, exists) in results.items():
        lines += ["", f"## {ns}", ""]
        easynn_name = "easynn" + ns[len("keras") :]
        count = f"**{len(supported)} of {len(supported) + len(missing)} supported**"
        lines.append(count + ("" if exists else f" (there is no `{easynn_name}` module yet)") + ".")
        lines += ["", f"Supported: {_names(supported)}.", "", f"**Not yet** ({len(missing)}): {_names(missing)}."]
        if not_applicable:
            lines += ["", f"Not applicable on PyTorch (not counted): {_names(not_applicable)}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"write {OUTPUT.relative_to(OUTPUT.parent.parent)}")
    group.add_argument("--check", action="store_true", help="exit with status 1 when the committed page is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        OUTPUT.write_text(text, encoding="utf-8")
    elif args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date; run: {REGENERATE}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
