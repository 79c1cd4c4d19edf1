"""64-bit perceptual hashes in a numpy array, searched with one vectorised popcount per query."""

from __future__ import annotations

import numpy as np


class PhashTable:
    """tip id → 64-bit hash; finds the closest stored hash by Hamming distance.

    A scan of 100,000 hashes is one XOR and one popcount over 800 kB, well under a millisecond,
    so no multi-index structure is needed at a county's scale.
    """

    _MIN_CAPACITY = 1024

    def __init__(self) -> None:
        self._hashes = np.zeros(self._MIN_CAPACITY, dtype=np.uint64)
        self._tips = np.full(self._MIN_CAPACITY, -1, dtype=np.int64)  # -1 marks a removed row
        self._size = 0
        self._row: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._row)

    def add(self, tip_id: int, phash: int) -> None:
        if tip_id in self._row:
            self.remove(tip_id)
        if self._size == len(self._hashes):
            self._compact_or_grow()
        self._hashes[self._size] = phash
        self._tips[self._size] = tip_id
        self._row[tip_id] = self._size
        self._size += 1

    def remove(self, tip_id: int) -> None:
        row = self._row.pop(tip_id, None)
        if row is not None:
            self._tips[row] = -1

    def nearest(self, phash: int, max_distance: int) -> tuple[int, int] | None:
        """(tip_id, distance) of the closest hash within ``max_distance``; the latest wins ties."""
        if not self._row:
            return None
        size = self._size
        distances = np.bitwise_count(self._hashes[:size] ^ np.uint64(phash)).astype(np.int64)
        distances[self._tips[:size] < 0] = max_distance + 1
        best = int(distances.min())
        if best > max_distance:
            return None
        row = int(np.flatnonzero(distances == best)[-1])
        return int(self._tips[row]), best

    def _compact_or_grow(self) -> None:
        live = self._tips[: self._size] >= 0
        hashes = self._hashes[: self._size][live]
        tips = self._tips[: self._size][live]
        capacity = max(self._MIN_CAPACITY, 2 * len(tips))
        self._hashes = np.zeros(capacity, dtype=np.uint64)
        self._tips = np.full(capacity, -1, dtype=np.int64)
        self._hashes[: len(tips)] = hashes
        self._tips[: len(tips)] = tips
        self._size = len(tips)
        self._row = {int(tip): row for row, tip in enumerate(tips.tolist())}
