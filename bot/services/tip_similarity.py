"""How alike a normalised tip is to many stored ones, vectorised over the candidates.

Rumors on one topic share their frame (可以预防新冠病毒, 兰西县人民医院 ...) and differ in the
few characters that name the claim (白酒, 大蒜, 10例确诊). So the main measure is a TF-IDF
cosine over character unigrams and bigrams, with document frequencies learned from the stored
tips themselves: the frame weighs little, the claim a lot, and rewordings that keep the claim
still match. A rapidfuzz ratio adds a second path for typo-ridden and truncated forwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ClusteringParams:
    """Tuning knobs; the defaults are what ``bench/tip_clustering.py`` was tuned with."""

    min_text_chars: int = 6  # shorter normalised texts are never clustered by text alone
    short_text_chars: int = 12  # up to this length a stricter threshold applies
    text_threshold: float = 0.36  # TF-IDF cosine to join a cluster
    short_text_threshold: float = 0.5
    anchor_threshold: float = 0.5  # weaker joins may not pull further tips in (no chains)
    fuzzy_threshold: float = 0.8  # a rapidfuzz score this high matches on its own
    verify_top: int = 5  # rapidfuzz checks the best few candidates by cosine
    partial_min_chars: int = 10  # truncated forwards: the shorter text must still say this much
    partial_min_share: float = 0.4  # ... and be this share of the longer one
    idf_prior_docs: int = 10  # smooths document frequencies while the index is nearly empty
    candidate_grams: int = 8  # posting lists of the rarest query grams read for candidates ...
    candidate_budget: int = 400  # ... while their total length stays within this
    image_max_distance: int = 8  # Hamming distance between 64-bit perceptual hashes


DEFAULT_PARAMS = ClusteringParams()


def char_grams(text: str) -> set[str]:
    """The character unigrams and bigrams of a normalised text."""
    return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}


class GramVocabulary:
    """Gram ids and their document frequencies over the distinct stored texts."""

    def __init__(self, prior_docs: int) -> None:
        self._ids: dict[str, int] = {}
        self._df = np.zeros(4096, dtype=np.int64)
        self._docs = 0
        self._prior = prior_docs

    def known_ids(self, grams: set[str]) -> tuple[IntArray, int]:
        """Ids of the grams seen before, and how many were never seen."""
        ids = [i for i in map(self._ids.get, grams) if i is not None]
        return np.array(ids, dtype=np.int64), len(grams) - len(ids)

    def add_document(self, grams: set[str]) -> IntArray:
        """Count a new distinct text; the ids of its grams (registered as needed)."""
        for gram in grams:
            if gram not in self._ids:
                self._ids[gram] = len(self._ids)
        if len(self._ids) > len(self._df):
            self._df = np.concatenate([self._df, np.zeros(len(self._df), dtype=np.int64)])
        ids = np.fromiter((self._ids[g] for g in grams), dtype=np.int64, count=len(grams))
        self._df[ids] += 1
        self._docs += 1
        return ids

    def remove_document(self, ids: IntArray) -> None:
        self._df[ids] -= 1
        self._docs -= 1

    def squared_idf(self, ids: IntArray) -> FloatArray:
        """idf² per id: what one shared gram adds to the dot product of binary TF-IDF vectors."""
        scale = float(self._docs + self._prior)
        idf: FloatArray = np.log(scale / (self._df[ids] + 1.0)) + 1.0
        return idf * idf

    def unseen_squared_idf(self) -> float:
        return float((np.log(self._docs + self._prior) + 1.0) ** 2)


def cosine_many(vocabulary: GramVocabulary, query: set[str], candidates: Sequence[IntArray]) -> FloatArray:
    """TF-IDF cosine (binary term frequency) of ``query`` with each candidate's gram ids."""
    if not candidates:
        return np.zeros(0)
    query_ids, unseen = vocabulary.known_ids(query)
    query_norm = np.sqrt(vocabulary.squared_idf(query_ids).sum() + unseen * vocabulary.unseen_squared_idf())
    lengths = np.fromiter((len(c) for c in candidates), dtype=np.int64, count=len(candidates))
    flat = np.concatenate(candidates)
    weights = vocabulary.squared_idf(flat)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    norms = np.sqrt(np.add.reduceat(weights, starts))
    shared = np.add.reduceat(weights * np.isin(flat, query_ids), starts)
    result: FloatArray = shared / (norms * query_norm)
    return result


def fuzzy_similarity(a: str, b: str, params: ClusteringParams = DEFAULT_PARAMS) -> float:
    """rapidfuzz similarity in [0, 1] of two normalised texts.

    Whole-text ratio, or the partial ratio when one text is a truncated forward of the other;
    the partial ratio only counts when the shorter text still says enough
    (``partial_min_chars`` and ``partial_min_share`` of the longer), so a short generic phrase
    inside a long text does not match it. Texts under ``min_text_chars`` never match.
    """
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < params.min_text_chars:
        return 0.0
    best: float = fuzz.ratio(a, b) / 100
    if len(short) >= params.partial_min_chars and len(short) >= params.partial_min_share * len(long_):
        best = max(best, fuzz.partial_ratio(short, long_) / 100)
    return best
