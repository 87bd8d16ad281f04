"""Numba kernels: plain arrays and scalars in, arrays and scalars out.

Nothing here validates its input; the public wrappers in :mod:`curvestat.stats`
do. Importing this package imports numba but compiles nothing: every kernel
is compiled lazily on first call and cached on disk (``cache=True``).
"""
