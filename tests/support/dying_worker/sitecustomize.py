"""Loaded at start-up by worker processes a test spawns (PYTHONPATH points here): the worker dies
outright, as it would out of memory or in a crash of the engine's C code, when it is handed a
partition. Only processes started while the test sets PYTHONPATH load this file."""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys


class _Wrap(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        if name != "inspector.partitions":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        sys.meta_path.insert(0, self)
        assert spec is not None and spec.loader is not None
        loader = spec.loader

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec):  # type: ignore[no-untyped-def]
                return loader.create_module(spec)

            def exec_module(self, module):  # type: ignore[no-untyped-def]
                loader.exec_module(module)
                module.partition_task = lambda *args, **kwargs: os._exit(9)

        spec.loader = _Loader()
        return spec


sys.meta_path.insert(0, _Wrap())
