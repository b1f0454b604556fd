"""The compiled-template cache and the environment classes shared by the template environments.

Compiling the report templates takes about 0.2 s of every audit; jinja2's bytecode cache keeps
them compiled between runs in a per-user folder under the system's temporary directory (jinja2
checks its owner and mode). Entries are keyed by template source, and here also by jinja2's
version and the environment that compiled them (HTML and Markdown compile with other options).
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from jinja2.bccache import Bucket

_DICT_ATTRIBUTES = frozenset(dir(dict))


class DictFirst(jinja2.Environment):
    """`f.id` on a plain dict looks the key up at once when `id` is nothing a dict has as an
    attribute; jinja2 (and its sandbox) would try `getattr` first and look the key up only after
    catching its AttributeError, which at province scale is a million exceptions per report. The
    result is the same: a dict's own attributes (`items`, `get`) still win over its keys, other
    objects (and dict subclasses) go through the environment's own lookup. Mixed in before the
    environment class it speeds up (the sandbox's lookup, too, reads a dict's keys unchecked)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


class DataEnvironment(DictFirst):
    """An environment for templates that show JSON data (findings.json's dicts)."""


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
