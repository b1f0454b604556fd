"""The history store's own errors, under the inspector's one root (`inspector.errors`)."""

from __future__ import annotations

from ..errors import InspectorError, UsageError


class StoreDamaged(InspectorError):
    """The store's structure or contents do not verify: exit 1, as a failed `inspector verify`.

    Commands that change the ledger refuse to start on such a store, and readers stop at a row
    they cannot read, rather than act on (or show) what may have been edited behind their back.
    """

    exit_code = 1


class ItemChanged(UsageError):
    """A ledger item changed since the caller read it (optimistic locking: exit 2)."""


VERIFY_HINT = "请运行 inspector verify 查看全部问题"
