"""The linear-algebra family of ``keras.ops`` (``keras.ops.linalg``), on ``torch.linalg``.

Every function takes (batches of) matrices in the last two axes; integer inputs are computed in
``floatx()``. A failed factorisation (a singular matrix for ``inv``/``solve``, a matrix that is
not positive definite for ``cholesky``) raises a ``ValueError`` naming the op.

Example:
    >>> import torch
    >>> from easynn.ops import linalg
    >>> linalg.det(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    tensor(6.)
    >>> linalg.solve(torch.tensor([[2.0, 0.0], [0.0, 4.0]]), torch.tensor([[2.0], [2.0]]))
    tensor([[1.0000],
            [0.5000]])
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from easynn.ops._convert import fail
from easynn.ops._convert import floating as _float
from easynn.ops._dispatch import op
from easynn.ops.math import qr

Tensor = torch.Tensor

__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "lu_factor", "norm", "qr", "solve",
           "solve_triangular", "svd", "lstsq", "slogdet", "jvp"]


def _square(name: str, x: Tensor) -> Tensor:
    if x.dim() < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{name}(): expected (batches of) square matrices. Received shape {tuple(x.shape)}")
    return x


def _run(name: str, fn: Callable, *args: Any, **operands: Any):
    try:
        return fn(*args)
    except RuntimeError as error:  # torch.linalg.LinAlgError is a RuntimeError
        raise fail(name, error, **operands) from None


@op
def cholesky(x: Any, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` with ``x = L L^T`` (``upper=True``: ``U`` with ``x = U^T U``).

    Raises:
        ValueError: if ``x`` is not square or not positive definite.
    """
    x = _square("cholesky", _float(x))
    return _run("cholesky", lambda a: torch.linalg.cholesky(a, upper=upper), x, x=x)


@op
def cholesky_inverse(x: Any, upper: bool = False) -> Tensor:
    """``inv(A)`` from the Cholesky factor ``x`` of ``A``."""
    x = _square("cholesky_inverse", _float(x))
    return torch.cholesky_inverse(x, upper=upper)


@op
def det(x: Any) -> Tensor:
    """The determinant of (batches of) square matrices."""
    x = _square("det", _float(x))
    return torch.linalg.det(x)


@op
def slogdet(x: Any) -> tuple[Tensor, Tensor]:
    """``(sign, log|det|)`` of (batches of) square matrices."""
    x = _square("slogdet", _float(x))
    return tuple(torch.linalg.slogdet(x))


@op
def eig(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues and eigenvectors of general square matrices (complex results)."""
    x = _square("eig", _float(x))
    return tuple(_run("eig", torch.linalg.eig, x, x=x))


@op
def eigh(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors of symmetric / Hermitian matrices."""
    x = _square("eigh", _float(x))
    return tuple(_run("eigh", torch.linalg.eigh, x, x=x))


@op
def inv(x: Any) -> Tensor:
    """The inverse of (batches of) square matrices.

    Raises:
        ValueError: if a matrix is singular.
    """
    x = _square("inv", _float(x))
    return _run("inv", torch.linalg.inv, x, x=x)


@op
def lu_factor(x: Any) -> tuple[Tensor, Tensor]:
    """The packed LU factorisation and its pivots.

    Returns:
        ``(lu, pivots)``: ``lu`` holds ``L`` (unit diagonal, below) and ``U``; ``pivots`` are
        torch's 1-based row swaps minus one (0-based, as SciPy's and JAX's ``lu_factor``).
    """
    x = _float(x)
    lu, pivots = _run("lu_factor", torch.linalg.lu_factor, x, x=x)
    return lu, (pivots - 1).to(torch.int32)


@op
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector or matrix norm, with NumPy's ``np.linalg.norm`` semantics.

    ``axis=None`` on a 1-D input is the vector 2-norm, on a 2-D input the Frobenius norm; an int
    axis is a vector norm, a pair of axes a matrix norm (``"fro"``, ``"nuc"``, ``1``, ``-1``,
    ``2``, ``-2``, ``inf``, ``-inf``).

    Example:
        >>> norm(torch.tensor([3.0, 4.0]))
        tensor(5.)
    """
    x = _float(x)
    if axis is None:
        if x.dim() == 2 and ord is not None:
            return torch.linalg.matrix_norm(x, ord=ord, dim=(-2, -1), keepdim=keepdims)
        if ord is None or x.dim() == 1:
            out = torch.linalg.vector_norm(x.reshape(-1), ord=2 if ord is None else ord)
            return out.reshape((1,) * x.dim()) if keepdims else out
        raise ValueError(f"norm(): `ord`={ord!r} needs a 1-D or 2-D input when axis=None. Received shape {tuple(x.shape)}")
    if isinstance(axis, int) or (isinstance(axis, (tuple, list)) and len(axis) == 1):
        dim = axis if isinstance(axis, int) else axis[0]
        return torch.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=dim, keepdim=keepdims)
    if len(axis) != 2:
        raise ValueError(f"norm(): `axis` must be None, an int or a pair of ints. Received: axis={axis!r}")
    return torch.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=tuple(axis), keepdim=keepdims)


@op
def solve(a: Any, b: Any) -> Tensor:
    """``x`` with ``a @ x = b`` (``b`` a matrix or a batch of matrices, or vectors).

    Raises:
        ValueError: if ``a`` is singular or the shapes do not match.
    """
    a, b = _float(a), _float(b)
    a = _square("solve", a)
    return _run("solve", torch.linalg.solve, a, b.to(a.dtype), a=a, b=b)


@op
def solve_triangular(a: Any, b: Any, lower: bool = False) -> Tensor:
    """``x`` with ``a @ x = b`` for a triangular ``a`` (lower when ``lower=True``, else upper)."""
    a, b = _float(a), _float(b)
    a = _square("solve_triangular", a)
    vector = b.dim() == a.dim() - 1
    rhs = b.unsqueeze(-1) if vector else b
    out = _run("solve_triangular", lambda m, r: torch.linalg.solve_triangular(m, r, upper=not lower), a,
               rhs.to(a.dtype), a=a, b=b)
    return out.squeeze(-1) if vector else out


@op
def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True):
    """Singular value decomposition ``x = u @ diag(s) @ v`` (``v`` is ``V^H``, as NumPy returns it).

    Returns:
        ``(u, s, v)``, or only ``s`` when ``compute_uv=False``.
    """
    x = _float(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(_run("svd", lambda m: torch.linalg.svd(m, full_matrices=full_matrices), x, x=x))


@op
def lstsq(a: Any, b: Any, rcond: float | None = None) -> Tensor:
    """The least-squares solution ``x`` of ``a @ x ~= b`` (minimum norm for rank-deficient ``a``)."""
    a, b = _float(a), _float(b)
    vector = b.dim() == 1
    rhs = b.unsqueeze(-1) if vector else b
    driver = "gelsd" if a.device.type == "cpu" else None
    solution = _run("lstsq", lambda m, r: torch.linalg.lstsq(m, r, rcond=rcond, driver=driver).solution,
                    a, rhs.to(a.dtype), a=a, b=b)
    return solution.squeeze(-1) if vector else solution


def _tree(value: Any, like: Any = None) -> Any:
    """Leaves of a tuple/list/dict tree as float tensors (on/in ``like``'s device/dtype when given)."""
    if isinstance(value, (tuple, list)):
        same = isinstance(like, (tuple, list)) and len(like) == len(value)
        return type(value)(_tree(v, like[i] if same else None) for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _tree(v, like.get(k) if isinstance(like, dict) else None) for k, v in value.items()}
    leaf = _float(value)
    if like is not None and isinstance(like, Tensor):
        leaf = leaf.to(device=like.device, dtype=like.dtype)
    return leaf


def jvp(fun: Callable, primals: Any, tangents: Any, has_aux: bool = False) -> tuple:
    """Forward-mode Jacobian-vector product of ``fun`` at ``primals`` along ``tangents`` (``torch.func.jvp``).

    Formula: ``tangents_out = J_fun(primals) @ tangents = d/de fun(primals + e * tangents) at e = 0``.

    Args:
        fun: a function of ``len(primals)`` positional tensor (or tuple/list/dict of tensors) arguments
            returning a tensor or a container of tensors; with ``has_aux`` it returns
            ``(output, aux)``.
        primals: a tuple or list of the arguments (integers are computed as floats).
        tangents: a tuple or list with the same structure and shapes as ``primals``.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through, not differentiated.

    Returns:
        ``(primals_out, tangents_out)``, or ``(primals_out, tangents_out, aux)`` with ``has_aux``.

    Raises:
        TypeError: ``fun`` not callable, or ``primals``/``tangents`` not a tuple or list.
        ValueError: ``primals`` and ``tangents`` of different lengths.

    Example:
        >>> out, tangent = jvp(lambda x: x ** 3, (torch.tensor(2.0),), (torch.tensor(1.0),))
        >>> out, tangent  # 2^3 and 3 * 2^2
        (tensor(8.), tensor(12.))
    """
    if not callable(fun):
        raise TypeError(f"jvp(): `fun` must be callable. Received: fun={fun!r:.80}")
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"jvp(): `{name}` must be a tuple or list of arguments. "
                            f"Received: {name} of type {type(value).__name__}")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp(): `primals` and `tangents` must have the same length. "
                         f"Received {len(primals)} primals and {len(tangents)} tangents")
    primals = tuple(_tree(p) for p in primals)
    tangents = tuple(_tree(t, p) for t, p in zip(tangents, primals))
    return tuple(torch.func.jvp(fun, primals, tangents, has_aux=bool(has_aux)))
