"""``easynn.ops``: Keras 3's ``keras.ops`` on torch (``from easynn import ops`` / ``keras.ops``).

Families: NumPy-like (``numpy_*`` modules, also reachable as ``ops.numpy.xxx``), core, nn, linalg,
image. Inputs may be tensors, NumPy arrays, Python scalars or lists; outputs are torch tensors on
the input's device. Conversion and dtype rules: ``easynn.ops._convert``; symbolic dispatch:
``easynn.ops._dispatch``.
"""

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

# submodule-style access, as keras.ops.numpy.xxx
from easynn.ops import numpy  # noqa: E402
