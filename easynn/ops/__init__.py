"""``easynn.ops``: Keras 3's ``keras.ops`` on torch (``from easynn import ops`` / ``keras.ops``).

Families: NumPy-like (``numpy_*`` modules, also reachable as ``ops.numpy.xxx``), core, nn, linalg,
image. Inputs may be tensors, NumPy arrays, Python scalars or lists; outputs are torch tensors on
the input's device. Conversion and dtype rules: ``easynn.ops._convert``; symbolic dispatch:
``easynn.ops._dispatch``.
"""

# ruff: noqa: A004, E402, F401  (Keras's names shadow builtins: abs, all, any, max, min, round, sum)

# conversion
from easynn.ops._convert import convert_to_numpy, convert_to_tensor

# numpy family: element-wise math
from easynn.ops.numpy_math import (
    abs, absolute, add, angle, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cbrt, ceil, clip,
    conj, conjugate, cos, cosh, deg2rad, divide, divide_no_nan, exp, exp2, expm1, floor, floor_divide, gcd,
    heaviside, hypot, imag, lcm, ldexp, log, log10, log1p, log2, logaddexp, logaddexp2, maximum, minimum, mod,
    multiply, nan_to_num, negative, nextafter, power, rad2deg, real, reciprocal, round, sign, sin, sinh, sqrt,
    square, subtract, tan, tanh, true_divide, trunc,
)

# numpy family: comparisons, logic, bitwise
from easynn.ops.numpy_logic import (
    bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor,
    equal, greater, greater_equal, isclose, isfinite, isin, isinf, isnan, isneginf, isposinf, isreal,
    left_shift, less, less_equal, logical_and, logical_not, logical_or, logical_xor, not_equal, right_shift,
    select, signbit, where,
)

# numpy family: reductions, statistics
from easynn.ops.numpy_reduce import (
    all, amax, amin, any, argmax, argmin, average, count_nonzero, cumprod, cumsum, diff, max, mean, median, min,
    nanmax, nanmean, nanmin, nansum, prod, ptp, quantile, std, sum, var,
)

# numpy family: sorting, searching, counting
from easynn.ops.numpy_sort import (
    argpartition, argsort, bincount, digitize, histogram, searchsorted, sort, unique,
)

# numpy family: creation
from easynn.ops.numpy_create import (
    arange, array, bartlett, blackman, empty, empty_like, eye, full, full_like, hamming, hanning, identity,
    kaiser, linspace, logspace, meshgrid, ones, ones_like, tri, zeros, zeros_like,
)

# numpy family: shapes, joining, padding
from easynn.ops.numpy_array import (
    append, array_split, broadcast_to, concatenate, copy, dstack, expand_dims, flip, hstack, moveaxis, ndim,
    pad, ravel, repeat, reshape, roll, rot90, size, split, squeeze, stack, swapaxes, tile, transpose, view,
    vstack,
)

# numpy family: indexing
from easynn.ops.numpy_index import (
    diag, diagflat, diagonal, get_item, nonzero, take, take_along_axis, tril, triu, unravel_index,
)

# numpy family: products and contractions
from easynn.ops.numpy_products import (
    corrcoef, correlate, cross, dot, einsum, inner, kron, matmul, outer, slogdet, tensordot, trace, trapezoid,
    vander, vdot, vectorize,
)

# core family: dtypes, shapes, control flow, scatter/slice, gradients
from easynn.ops.core import (
    associative_scan, cast, cond, custom_gradient, dtype, fori_loop, is_tensor, map, remat, saturate_cast, scan,
    scatter, scatter_update, shape, slice, slice_update, stop_gradient, switch, unstack, vectorized_map, while_loop,
)

# math family: special functions, segments, top-k, FFT
from easynn.ops.math import (
    erf, erfinv, extract_sequences, fft, fft2, ifft2, in_top_k, irfft, istft, logdet, logsumexp, qr, rfft, rsqrt,
    segment_max, segment_sum, stft, top_k,
)

# nn family: activations, losses, normalisation, convolution, pooling, attention
from easynn.ops.nn import (
    average_pool, batch_normalization, binary_crossentropy, categorical_crossentropy, celu, conv, conv_transpose,
    ctc_loss, depthwise_conv, dot_product_attention, elu, gelu, glu, hard_shrink, hard_sigmoid, hard_silu,
    hard_swish, hard_tanh, layer_normalization, leaky_relu, log_sigmoid, log_softmax, max_pool, moments,
    multi_hot, normalize, one_hot, psnr, relu, relu6, rms_normalization, selu, separable_conv, sigmoid, silu,
    soft_shrink, softmax, softplus, softsign, sparse_categorical_crossentropy, sparse_plus, sparsemax,
    squareplus, swish, tanh_shrink, threshold,
)

# linalg family (also as ops.linalg.xxx)
from easynn.ops.linalg import (
    cholesky, cholesky_inverse, det, eig, eigh, inv, lstsq, lu_factor, norm, solve, solve_triangular, svd,
)

# submodule-style access, as keras.ops.numpy.xxx / ops.nn.xxx / ops.linalg.xxx / ops.image.xxx
from easynn.ops import core, image, linalg, math, nn  # noqa: E402
from easynn.ops import numpy  # noqa: E402
