"""The compiled-template cache shared by the report environments.

Compiling the report templates takes about 0.2 s of every audit; jinja2's bytecode cache keeps
them compiled between runs in a per-user folder under the system's temporary directory (jinja2
checks its owner and mode). Entries are keyed by template source, and here also by jinja2's
version and the environment that compiled them (HTML and Markdown compile with other options).
"""

from __future__ import annotations

import functools

import jinja2
from jinja2.bccache import Bucket


class _BestEffortCache(jinja2.FileSystemBytecodeCache):
    """A cache that can only make rendering faster: a full or vanished cache folder is ignored."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def bytecode_cache(environment: str) -> jinja2.BytecodeCache | None:
    """The cache for one kind of environment, or None where no private cache folder can be had
    (templates are then compiled each run)."""
    try:
        return _BestEffortCache(pattern=f"__inspector_{environment}_jinja{jinja2.__version__}_%s.cache")
    except (OSError, RuntimeError):
        return None
