"""`LazySequence`: a read-only sequence whose items are made when asked for, not held (a corpus's titles decoded
one at a time, the library's rows, the positions of the rows it shows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class LazySequence(Sequence[T]):
    """A Sequence that makes item `n` (0 <= n < len) with `_item(n)`: indexing from the end, the bounds and slices
    (a list of the items) are handled here, once for every such sequence."""

    __slots__ = ()

    def _item(self, n: int) -> T:
        raise NotImplementedError

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._item(n) for n in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        return self._item(i)
