"""``easynn.ops.numpy``: the NumPy family of ``keras.ops`` as one namespace (``keras.ops.numpy.sum``).

The functions live in ``numpy_math`` (element-wise math), ``numpy_logic`` (comparisons, logic,
bitwise), ``numpy_reduce`` (reductions, statistics), ``numpy_sort`` (sorting, searching, counting),
``numpy_create`` (creation), ``numpy_array`` (shapes, joining, padding), ``numpy_index`` (indexing)
and ``numpy_products`` (matmul, dot, einsum...); this module re-exports them, and so does
``easynn.ops``. The conventions (conversion, dtype promotion, devices) are in ``easynn.ops._convert``.
"""

# ruff: noqa: A004, F401, I001  (Keras's names shadow builtins; one import block per module, grouped by idea)

# Keras lists logdet in both the numpy and math families; it lives in easynn.ops.math.
from easynn.ops.math import logdet

# element-wise math
from easynn.ops.numpy_math import (
    abs, absolute, add, angle, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cbrt, ceil, clip,
    conj, conjugate, cos, cosh, deg2rad, divide, divide_no_nan, exp, exp2, expm1, floor, floor_divide, gcd,
    heaviside, hypot, imag, lcm, ldexp, log, log10, log1p, log2, logaddexp, logaddexp2, maximum, minimum, mod,
    multiply, nan_to_num, negative, nextafter, power, rad2deg, real, reciprocal, round, sign, sin, sinh, sqrt,
    square, subtract, tan, tanh, true_divide, trunc,
)

# comparisons, logic, bitwise
from easynn.ops.numpy_logic import (
    bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor,
    equal, greater, greater_equal, isclose, isfinite, isin, isinf, isnan, isneginf, isposinf, isreal,
    left_shift, less, less_equal, logical_and, logical_not, logical_or, logical_xor, not_equal, right_shift,
    select, signbit, where,
)

# reductions, statistics
from easynn.ops.numpy_reduce import (
    all, amax, amin, any, argmax, argmin, average, count_nonzero, cumprod, cumsum, diff, max, mean, median, min,
    nanmax, nanmean, nanmin, nanprod, nansum, prod, ptp, quantile, std, sum, var,
)

# sorting, searching, counting
from easynn.ops.numpy_sort import (
    argpartition, argsort, bincount, digitize, histogram, searchsorted, sort, unique,
)

# creation
from easynn.ops.numpy_create import (
    arange, array, bartlett, blackman, empty, empty_like, eye, full, full_like, hamming, hanning, identity,
    kaiser, linspace, logspace, meshgrid, ones, ones_like, tri, zeros, zeros_like,
)

# shapes, joining, padding
from easynn.ops.numpy_array import (
    append, array_split, broadcast_to, concatenate, copy, dstack, expand_dims, flip, hstack, moveaxis, ndim,
    pad, ravel, repeat, reshape, roll, rot90, size, split, squeeze, stack, swapaxes, tile, transpose, view,
    vsplit, vstack,
)

# indexing
from easynn.ops.numpy_index import (
    diag, diagflat, diagonal, get_item, nonzero, take, take_along_axis, tril, triu, unravel_index,
)

# products and contractions
from easynn.ops.numpy_products import (
    corrcoef, correlate, cross, dot, einsum, inner, kron, matmul, outer, slogdet, tensordot, trace, trapezoid,
    vander, vdot, vectorize,
)

__all__ = [
    "abs", "absolute", "add", "all", "amax", "amin", "angle", "any", "append", "arange", "arccos", "arccosh",
    "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argpartition", "argsort", "array",
    "array_split", "average", "bartlett", "bincount", "bitwise_and", "bitwise_invert", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "blackman", "broadcast_to", "cbrt",
    "ceil", "clip", "concatenate", "conj", "conjugate", "copy", "corrcoef", "correlate", "cos", "cosh",
    "count_nonzero", "cross", "cumprod", "cumsum", "deg2rad", "diag", "diagflat", "diagonal", "diff",
    "digitize", "divide", "divide_no_nan", "dot", "dstack", "einsum", "empty", "empty_like", "equal", "exp",
    "exp2", "expand_dims", "expm1", "eye", "flip", "floor", "floor_divide", "full", "full_like", "gcd",
    "get_item", "greater", "greater_equal", "hamming", "hanning", "heaviside", "histogram", "hstack", "hypot",
    "identity", "imag", "inner", "isclose", "isfinite", "isin", "isinf", "isnan", "isneginf", "isposinf",
    "isreal", "kaiser", "kron", "lcm", "ldexp", "left_shift", "less", "less_equal", "linspace", "log", "log10",
    "log1p", "log2", "logaddexp", "logaddexp2", "logdet", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logspace", "matmul", "max", "maximum", "mean", "median", "meshgrid", "min", "minimum",
    "mod", "moveaxis", "multiply", "nan_to_num", "nanmax", "nanmean", "nanmin", "nanprod", "nansum", "ndim", "negative",
    "nextafter", "nonzero", "not_equal", "ones", "ones_like", "outer", "pad", "power", "prod", "ptp",
    "quantile", "rad2deg", "ravel", "real", "reciprocal", "repeat", "reshape", "right_shift", "roll", "rot90",
    "round", "searchsorted", "select", "sign", "signbit", "sin", "sinh", "size", "slogdet", "sort", "split",
    "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "take", "take_along_axis",
    "tan", "tanh", "tensordot", "tile", "trace", "transpose", "trapezoid", "tri", "tril", "triu", "true_divide",
    "trunc", "unique", "unravel_index", "vander", "var", "vdot", "vectorize", "view", "vsplit", "vstack", "where",
    "zeros", "zeros_like"
]
