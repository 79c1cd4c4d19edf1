"""Candidate texts for a new tip: those sharing its rarest character grams.

A tip matches a stored rumor through the few characters that name the claim (白酒, 榆林镇,
10例), and those are the grams that few stored texts contain. So candidates come from the
posting lists of the query's rarest grams, shortest first, within a budget: the frame shared by
a whole family of rumors (有人确诊, 可以预防新冠病毒) never floods the candidate set.
(MinHash LSH over character n-grams was measured first; see bench/tip_clustering.py's notes.)
"""

from __future__ import annotations

from collections.abc import Iterable


class RareGramPostings:
    """gram id → ids of the texts that contain it, for the texts allowed to attract tips."""

    def __init__(self, max_grams: int, budget: int) -> None:
        self._postings: dict[int, list[int]] = {}
        self._max_grams = max_grams
        self._budget = budget

    def add(self, text_id: int, gram_ids: Iterable[int]) -> None:
        for gram in gram_ids:
            self._postings.setdefault(gram, []).append(text_id)

    def remove(self, text_id: int, gram_ids: Iterable[int]) -> None:
        for gram in gram_ids:
            posting = self._postings[gram]
            posting.remove(text_id)
            if not posting:
                del self._postings[gram]

    def candidates(self, gram_ids: Iterable[int]) -> set[int]:
        """Texts sharing one of the query's rarest grams: at most ``max_grams`` lists, read
        shortest first while they fit in ``budget`` ids (the rarest list is always read)."""
        lists = sorted((p for p in map(self._postings.get, gram_ids) if p), key=len)
        found: set[int] = set()
        spent = 0
        for posting in lists[: self._max_grams]:
            spent += len(posting)
            if found and spent > self._budget:
                break
            found.update(posting)
        return found
