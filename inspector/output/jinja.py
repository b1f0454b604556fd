"""The compiled-template cache shared by the report environments.

Compiling the report templates takes about 0.3 s of every audit; jinja2's bytecode cache keeps
them compiled between runs, keyed by the template's source, in a per-user folder under the
system's temporary directory (jinja2 checks its owner and mode).
"""

from __future__ import annotations

import functools

import jinja2


@functools.cache
def bytecode_cache() -> jinja2.BytecodeCache | None:
    """The cache, or None where no private cache folder can be had (templates are then compiled each run)."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None
