"""The C library behind the package, through cffi in ABI mode.

The declarations are read from the library's own header (sf_pyapi.h,
between its cdef markers), so the binding cannot drift from the C side.
The library is the one installed beside this file, or, for a build tree,
the one named by the environment variable SPIKEFLY_LIB (with the header
found next to it or in the source tree's python/csrc/).
"""
import os
import pathlib

import cffi

_HERE = pathlib.Path(__file__).resolve().parent


def _paths():
    named = os.environ.get("SPIKEFLY_LIB")
    if named:
        lib = pathlib.Path(named).resolve()
        if not lib.is_file():
            raise ImportError(f"SPIKEFLY_LIB={named}: no such file")
        headers = [lib.parent / "sf_pyapi.h", _HERE.parent / "csrc" / "sf_pyapi.h"]
    else:
        lib = _HERE / "libspikefly_py.so"
        if not lib.is_file():
            raise ImportError(
                f"{lib} is missing: install the package (pip install .) or set SPIKEFLY_LIB "
                "to a build tree's libspikefly_py.so")
        headers = [_HERE / "sf_pyapi.h", _HERE.parent / "csrc" / "sf_pyapi.h"]
    for h in headers:
        if h.is_file():
            return lib, h
    raise ImportError(f"sf_pyapi.h not found beside {lib} nor in the source tree")


def _cdef(header):
    text = header.read_text()
    begin, end = text.index("/* cdef-begin */"), text.index("/* cdef-end */")
    return text[begin + len("/* cdef-begin */"):end]


ffi = cffi.FFI()
_lib_path, _header = _paths()
ffi.cdef(_cdef(_header))
lib = ffi.dlopen(str(_lib_path))
LIB_PATH = _lib_path

OBS_DIM = lib.SF_PY_OBS_DIM
PRIV_DIM = lib.SF_PY_PRIV_DIM
ACT_DIM = lib.SF_PY_ACT_DIM
STATE_DIM = lib.SF_PY_STATE_DIM


class ErrorBuffer:
    """A C buffer for messages, turned into a Python string."""

    def __init__(self, size=2048):
        self.size = size
        self.buf = ffi.new("char[]", size)

    def text(self):
        return ffi.string(self.buf).decode(errors="replace")


def ptr(array, ctype):
    """A pointer to a numpy array's data, without a copy (None -> NULL)."""
    if array is None:
        return ffi.NULL
    return ffi.cast(ctype, ffi.from_buffer(array, require_writable=False))


def wptr(array, ctype):
    """A pointer to a writable numpy array's data."""
    return ffi.cast(ctype, ffi.from_buffer(array, require_writable=True))
