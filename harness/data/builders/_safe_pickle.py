"""A restricted unpickler for old data pickles (read without running arbitrary code).

``pickle.load`` imports and calls whatever globals a pickle names, so an untrusted pickle can run
``os.system``. :class:`RestrictedUnpickler` resolves a global only through an explicit allow-list:

* plain builtin container and scalar types (``dict``, ``list``, ``tuple``, ``set``, ``frozenset``,
  ``str``, ``int``, ``float``, ``bool``, ``complex``) under their Python 2 and 3 module names;
* a few names that old scikit-learn / numpy pickles need (``copy_reg._reconstructor``,
  ``sklearn...Bunch``, ``numpy.ndarray``, ``numpy.dtype``, ``numpy.core.multiarray._reconstruct``).
  These never resolve to the real objects: each maps to a small inert stand-in defined here that
  only rebuilds a plain ``dict`` or a numeric / byte-string numpy array from raw bytes (object
  arrays are refused, since their elements would be arbitrary pickles).

Anything else (``os.system``, ``builtins.eval``, ``subprocess.Popen``, ...) raises
``pickle.UnpicklingError`` before it is imported.
"""

from __future__ import annotations

import builtins
import io
import pickle
import re
from typing import Any

import numpy as np

_BUILTIN_TYPES: dict[str, type] = {
    name: getattr(builtins, name)
    for name in ("dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool", "complex")
}
# Only fixed-width numeric, bool and byte-string dtypes can be rebuilt from raw bytes ('O' cannot).
_PLAIN_DTYPE = re.compile(r"^(?:[biuf]\d{1,2}|[?b]|S\d{1,6})$")


class _NdarrayClass:
    """Stand-in for ``numpy.ndarray`` as the first argument of ``_reconstruct`` (never built)."""

    def __init__(self, *args: Any) -> None:
        raise pickle.UnpicklingError("numpy.ndarray may only be rebuilt through _reconstruct")


class _DtypeStub:
    """Stand-in for ``numpy.dtype(spec, align, copy)`` followed by ``__setstate__``."""

    def __init__(self, spec: Any, align: Any = 0, copy: Any = 1) -> None:
        if not isinstance(spec, str) or not _PLAIN_DTYPE.match(spec):
            raise pickle.UnpicklingError(f"numpy dtype {spec!r} is not allowed (plain numbers/bytes only)")
        self.spec = spec
        self.byteorder = "="

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) < 2 or state[1] not in ("<", ">", "=", "|"):
            raise pickle.UnpicklingError("malformed numpy dtype state")
        self.byteorder = state[1]

    def to_numpy(self) -> np.dtype:
        return np.dtype(("" if self.byteorder == "|" else self.byteorder) + self.spec)


class _ArrayStub:
    """Stand-in for the empty array ``_reconstruct`` returns; ``__setstate__`` fills ``array``."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise pickle.UnpicklingError("malformed numpy array state")
        _version, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _DtypeStub):
            raise pickle.UnpicklingError("numpy array state without an allowed dtype")
        if not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise pickle.UnpicklingError("malformed numpy array shape")
        # Python 2 ``str`` payloads arrive as latin-1 decoded text; latin-1 round-trips bytes exactly.
        data = raw.encode("latin1") if isinstance(raw, str) else raw
        if not isinstance(data, (bytes, bytearray)):
            raise pickle.UnpicklingError("numpy array payload is not raw bytes")
        flat = np.frombuffer(data, dtype=dtype.to_numpy())
        if flat.size != int(np.prod(shape, dtype=np.int64)):
            raise pickle.UnpicklingError("numpy array payload does not match its shape")
        self.array = flat.reshape(shape, order="F" if fortran else "C").copy()


def _ndarray_reconstruct(cls: Any, shape: Any, typecode: Any) -> _ArrayStub:
    """Stand-in for ``numpy.core.multiarray._reconstruct`` (only ever builds ``_ArrayStub``)."""
    if cls is not _NdarrayClass:
        raise pickle.UnpicklingError("_reconstruct may only rebuild numpy.ndarray")
    return _ArrayStub()


class _BunchClass(dict):
    """Stand-in for scikit-learn's ``Bunch`` (a dict); only used as a marker for ``_reconstructor``."""


def _copyreg_reconstructor(cls: Any, base: Any, state: Any) -> dict:
    """Stand-in for ``copy_reg._reconstructor``: rebuild a dict subclass as a plain ``dict``."""
    if cls not in (dict, _BunchClass) or base is not dict:
        raise pickle.UnpicklingError("copy_reg._reconstructor may only rebuild dicts")
    if state is not None and not isinstance(state, dict):
        raise pickle.UnpicklingError("copy_reg._reconstructor state is not a dict")
    return dict(state or {})


_STAND_INS: dict[tuple[str, str], Any] = {
    ("copy_reg", "_reconstructor"): _copyreg_reconstructor,
    ("copyreg", "_reconstructor"): _copyreg_reconstructor,
    ("sklearn.datasets.base", "Bunch"): _BunchClass,
    ("sklearn.utils", "Bunch"): _BunchClass,
    ("sklearn.utils._bunch", "Bunch"): _BunchClass,
    ("numpy", "ndarray"): _NdarrayClass,
    ("numpy", "dtype"): _DtypeStub,
    ("numpy.core.multiarray", "_reconstruct"): _ndarray_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _ndarray_reconstruct,
}


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` admits only the allow-list above."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 (documented on the class)
        if module in ("builtins", "__builtin__") and name in _BUILTIN_TYPES:
            return _BUILTIN_TYPES[name]
        if (module, name) in _STAND_INS:
            return _STAND_INS[(module, name)]
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in this pickle")


def _materialise(obj: Any) -> Any:
    """Replace ``_ArrayStub`` leaves by their numpy arrays, recursing into dicts, lists, tuples."""
    if isinstance(obj, _ArrayStub):
        if obj.array is None:
            raise pickle.UnpicklingError("numpy array without state")
        return obj.array
    if isinstance(obj, dict):
        return {key: _materialise(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_materialise(value) for value in obj]
    if isinstance(obj, tuple):
        return tuple(_materialise(value) for value in obj)
    if isinstance(obj, (_DtypeStub, _NdarrayClass, type)) or callable(obj):
        raise pickle.UnpicklingError(f"pickle result holds a bare {type(obj).__name__}")
    return obj


def restricted_loads(data: bytes, *, encoding: str = "latin1") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`.

    Args:
        data: the pickle bytes (any protocol; Python 2 pickles included).
        encoding: how Python 2 ``str`` objects are decoded (``latin1`` keeps bytes recoverable).

    Returns:
        The unpickled object made of builtin containers, scalars and numpy arrays only.

    Raises:
        pickle.UnpicklingError: a global outside the allow-list, or malformed state.
    """
    unpickler = RestrictedUnpickler(io.BytesIO(data), encoding=encoding)
    return _materialise(unpickler.load())
