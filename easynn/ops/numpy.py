"""``easynn.ops.numpy``: the NumPy family of ``keras.ops`` as one namespace (``keras.ops.numpy.sum``).

The functions live in ``numpy_math`` (element-wise math), ``numpy_logic`` (comparisons, logic,
bitwise), ``numpy_reduce`` (reductions, sorting, statistics), ``numpy_array`` (creation, shapes,
indexing) and ``numpy_products`` (matmul, dot, einsum...); this module re-exports them.
"""

from easynn.ops.numpy_math import *  # noqa: F401,F403 - re-export of the family (each module has __all__)
from easynn.ops.numpy_math import __all__ as _math_all

__all__ = [*_math_all]
