"""Near-duplicate clustering of rumor tips, in memory.

Each tip joins the cluster of the most similar stored tip, or starts a new one. An identical
normalised link decides first; then the better of a close screenshot hash and a verified text
match. Text candidates share the query's rarest character grams (``tip_candidates``) and are
verified by ``tip_similarity`` (TF-IDF cosine, rapidfuzz). A tip that joined only weakly does not
pull further tips in, so one doubtful link cannot chain two rumors together; a reviewer's
reassignment confirms it. The database stays the record: the caller feeds this index as tips
arrive and rebuilds it at start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .tip_candidates import RareGramPostings
from .tip_image import image_phash, phash_to_int
from .tip_phash_table import PhashTable
from .tip_similarity import (
    DEFAULT_PARAMS,
    ClusteringParams,
    GramVocabulary,
    IntArray,
    char_grams,
    cosine_many,
    fuzzy_similarity,
)
from .tip_text import PlaceNames, normalize_tip_text, normalize_url

__all__ = [
    "ClusteringParams",
    "Match",
    "Placement",
    "StoredTip",
    "TipIndex",
    "image_phash",
]

MatchKind = Literal["url", "image", "text"]


@dataclass(frozen=True)
class Match:
    """The stored tip a new tip resembles most, and the cluster that tip is in."""

    cluster_id: int
    matched_tip_id: int
    score: float  # 1.0 for an identical link or text; else image closeness or text similarity
    via: MatchKind


@dataclass(frozen=True)
class Placement:
    """Where ``TipIndex.add`` put a tip."""

    cluster_id: int
    created: bool  # the tip started a cluster that did not exist
    match: Match | None  # None when it started a new cluster or its cluster was given

    @property
    def score(self) -> float | None:
        return self.match.score if self.match else None

    @property
    def matched_tip_id(self) -> int | None:
        return self.match.matched_tip_id if self.match else None


@dataclass(frozen=True)
class StoredTip:
    """A tip as the database knows it, for ``TipIndex.rebuild``."""

    tip_id: int
    cluster_id: int
    text: str | None = None
    url: str | None = None
    image_phash: str | None = None
    match_score: float | None = None  # Placement.score when it was added; None = trusted


@dataclass(frozen=True)
class _Keys:
    text: str | None  # normalised; None when too short to compare
    url: str | None
    phash: int | None


@dataclass
class _Entry:
    cluster_id: int
    keys: _Keys


@dataclass
class _TextSlot:
    """One distinct normalised text and the tips that said it (latest decision last)."""

    text: str
    gram_ids: IntArray
    places: frozenset[str]
    tips: dict[int, None]
    anchor: bool  # may attract new tips (is in the postings)


def _touch(ordered: dict[int, None], tip_id: int) -> None:
    ordered.pop(tip_id, None)
    ordered[tip_id] = None


class TipIndex:
    """Places tips into clusters of near-duplicates; reviewers may merge and split.

    ``new_cluster_id`` allocates the id of a new cluster (e.g. inserts a cluster row and
    returns its id); without it ids count up from the largest seen. ``places`` are known place
    names (townships, estates ...): tips naming different ones never match by text.
    One lock guards every call.
    """

    def __init__(
        self,
        new_cluster_id: Callable[[], int] | None = None,
        params: ClusteringParams = DEFAULT_PARAMS,
        places: Iterable[str] = (),
    ) -> None:
        self.params = params
        self._allocate = new_cluster_id
        self._places = PlaceNames(places)
        self._lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self._clusters: dict[int, set[int]] = {}
        self._max_cluster_id = 0
        self._vocabulary = GramVocabulary(self.params.idf_prior_docs)
        self._postings = RareGramPostings(self.params.candidate_grams, self.params.candidate_budget)
        self._slots: dict[int, _TextSlot] = {}
        self._slot_of_text: dict[str, int] = {}
        self._next_slot = 0
        self._url_tips: dict[str, dict[int, None]] = {}
        self._images = PhashTable()

    # --- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, tip_id: object) -> bool:
        return tip_id in self._entries

    def tip_ids(self) -> list[int]:
        """Every stored tip id."""
        return list(self._entries)

    def cluster_of(self, tip_id: int) -> int:
        """The cluster a stored tip is in (KeyError if unknown)."""
        return self._entries[tip_id].cluster_id

    def members(self, cluster_id: int) -> frozenset[int]:
        """The tip ids in a cluster (empty if none)."""
        return frozenset(self._clusters.get(cluster_id, ()))

    def place(
        self, *, text: str | None, url: str | None = None, image_phash: str | None = None
    ) -> Match | None:
        """The cluster a tip would join, without storing it; None if it would start one."""
        with self._lock:
            return self._match(self._keys(text, url, image_phash))

    # --- changing ------------------------------------------------------------------------

    def add(
        self,
        tip_id: int,
        *,
        text: str | None,
        url: str | None = None,
        image_phash: str | None = None,
        cluster_id: int | None = None,
    ) -> Placement:
        """Store a tip: in ``cluster_id`` if given, else where it matches, else in a new cluster."""
        with self._lock:
            if tip_id in self._entries:
                raise ValueError(f"tip {tip_id} is already indexed")
            keys = self._keys(text, url, image_phash)
            match = self._match(keys) if cluster_id is None else None
            if match is not None:
                cluster_id = match.cluster_id
            elif cluster_id is None:
                cluster_id = self._allocate() if self._allocate else self._max_cluster_id + 1
            created = cluster_id not in self._clusters
            anchor = match is None or match.score >= self.params.anchor_threshold
            self._store(tip_id, _Entry(cluster_id, keys), anchor=anchor)
            return Placement(cluster_id=cluster_id, created=created, match=match)

    def remove(self, tip_id: int) -> None:
        """Forget a tip (deleted, or judged not a rumor); unknown ids are ignored."""
        with self._lock:
            entry = self._entries.pop(tip_id, None)
            if entry is None:
                return
            self._leave_cluster(tip_id, entry.cluster_id)
            keys = entry.keys
            if keys.text is not None:
                self._unindex_text(tip_id, keys.text)
            if keys.url is not None:
                tips = self._url_tips[keys.url]
                del tips[tip_id]
                if not tips:
                    del self._url_tips[keys.url]
            if keys.phash is not None:
                self._images.remove(tip_id)

    def reassign(self, tip_id: int, cluster_id: int) -> None:
        """Move a tip to another cluster (a reviewer's merge or split); later tips follow it."""
        with self._lock:
            entry = self._entries[tip_id]
            self._leave_cluster(tip_id, entry.cluster_id)
            entry.cluster_id = cluster_id
            self._join_cluster(tip_id, cluster_id)
            # A reviewer's decision is trusted, and is the latest for its text and link.
            if entry.keys.text is not None:
                slot_id = self._slot_of_text[entry.keys.text]
                _touch(self._slots[slot_id].tips, tip_id)
                self._make_anchor(slot_id)
            if entry.keys.url is not None:
                _touch(self._url_tips[entry.keys.url], tip_id)

    def merge(self, source_cluster_id: int, target_cluster_id: int) -> None:
        """Move every tip of one cluster into another."""
        with self._lock:
            for tip_id in sorted(self.members(source_cluster_id)):
                self.reassign(tip_id, target_cluster_id)

    def rebuild(self, items: Iterable[StoredTip]) -> None:
        """Replace the whole index with stored tips, keeping their clusters."""
        with self._lock:
            self._clear()
            for item in items:
                if item.tip_id in self._entries:
                    raise ValueError(f"tip {item.tip_id} appears twice")
                keys = self._keys(item.text, item.url, item.image_phash)
                score = item.match_score
                anchor = score is None or score >= self.params.anchor_threshold
                self._store(item.tip_id, _Entry(item.cluster_id, keys), anchor=anchor)

    # --- matching ------------------------------------------------------------------------

    def _keys(self, text: str | None, url: str | None, phash: str | None) -> _Keys:
        text_key = normalize_tip_text(text) if text else None
        if text_key is not None and len(text_key) < self.params.min_text_chars:
            text_key = None
        return _Keys(
            text=text_key,
            url=normalize_url(url) if url else None,
            phash=phash_to_int(phash) if phash else None,
        )

    def _match(self, keys: _Keys) -> Match | None:
        if keys.url is not None and keys.url in self._url_tips:
            return self._match_tip(next(reversed(self._url_tips[keys.url])), 1.0, "url")
        found = [m for m in (self._match_image(keys.phash), self._match_text(keys.text)) if m is not None]
        return max(found, key=lambda m: m.score) if found else None

    def _match_tip(self, tip_id: int, score: float, via: MatchKind) -> Match:
        return Match(self._entries[tip_id].cluster_id, tip_id, score, via)

    def _match_image(self, phash: int | None) -> Match | None:
        if phash is None:
            return None
        hit = self._images.nearest(phash, self.params.image_max_distance)
        if hit is None:
            return None
        tip_id, distance = hit
        return self._match_tip(tip_id, 1 - distance / 64, "image")

    def _match_text(self, text: str | None) -> Match | None:
        if text is None:
            return None
        slot_id = self._slot_of_text.get(text)
        score = 1.0
        if slot_id is None:
            slot_id, score = self._most_similar_slot(text)
            if slot_id is None:
                return None
        return self._match_tip(next(reversed(self._slots[slot_id].tips)), score, "text")

    def _most_similar_slot(self, text: str) -> tuple[int | None, float]:
        grams = char_grams(text)
        query_ids, _ = self._vocabulary.known_ids(grams)
        slot_ids = sorted(self._postings.candidates(query_ids.tolist()))
        if not slot_ids:
            return None, 0.0
        slots = [self._slots[slot_id] for slot_id in slot_ids]
        cosines = cosine_many(self._vocabulary, grams, [slot.gram_ids for slot in slots])
        places = self._places.find(text)
        if places:  # naming different known places: a different rumor, whatever the wording
            cosines[[bool(s.places) and places.isdisjoint(s.places) for s in slots]] = -1.0
        # Stable sort of the reversed order: among equal scores the newest text comes first.
        order = len(slot_ids) - 1 - np.argsort(-cosines[::-1], kind="stable")
        best_slot, best_score = None, 0.0
        for i in order[: self.params.verify_top].tolist():
            if cosines[i] < 0:
                break
            score = self._verified_score(text, slots[i].text, float(cosines[i]))
            if score > best_score:
                best_slot, best_score = slot_ids[i], score
        return best_slot, best_score

    def _verified_score(self, text: str, other: str, cosine: float) -> float:
        """The cosine, raised by a close rapidfuzz match; 0.0 when below the thresholds."""
        params = self.params
        fuzzy = fuzzy_similarity(text, other, params)
        score = max(cosine, fuzzy) if fuzzy >= params.fuzzy_threshold else cosine
        short = min(len(text), len(other)) <= params.short_text_chars
        needed = params.short_text_threshold if short else params.text_threshold
        return score if score >= needed else 0.0

    # --- bookkeeping ---------------------------------------------------------------------

    def _store(self, tip_id: int, entry: _Entry, *, anchor: bool) -> None:
        self._entries[tip_id] = entry
        self._join_cluster(tip_id, entry.cluster_id)
        keys = entry.keys
        if keys.text is not None:
            self._index_text(tip_id, keys.text, anchor=anchor)
        if keys.url is not None:
            self._url_tips.setdefault(keys.url, {})[tip_id] = None
        if keys.phash is not None:
            self._images.add(tip_id, keys.phash)

    def _index_text(self, tip_id: int, text: str, *, anchor: bool) -> None:
        slot_id = self._slot_of_text.get(text)
        if slot_id is None:
            slot_id = self._next_slot
            self._next_slot += 1
            gram_ids = self._vocabulary.add_document(char_grams(text))
            places = self._places.find(text)
            self._slots[slot_id] = _TextSlot(text, gram_ids, places, tips={}, anchor=False)
            self._slot_of_text[text] = slot_id
            if anchor:
                self._make_anchor(slot_id)
        self._slots[slot_id].tips[tip_id] = None

    def _make_anchor(self, slot_id: int) -> None:
        slot = self._slots[slot_id]
        if not slot.anchor:
            slot.anchor = True
            self._postings.add(slot_id, slot.gram_ids.tolist())

    def _unindex_text(self, tip_id: int, text: str) -> None:
        slot_id = self._slot_of_text[text]
        slot = self._slots[slot_id]
        del slot.tips[tip_id]
        if slot.tips:
            return
        if slot.anchor:
            self._postings.remove(slot_id, slot.gram_ids.tolist())
        self._vocabulary.remove_document(slot.gram_ids)
        del self._slots[slot_id], self._slot_of_text[text]

    def _join_cluster(self, tip_id: int, cluster_id: int) -> None:
        self._clusters.setdefault(cluster_id, set()).add(tip_id)
        self._max_cluster_id = max(self._max_cluster_id, cluster_id)

    def _leave_cluster(self, tip_id: int, cluster_id: int) -> None:
        members = self._clusters[cluster_id]
        members.discard(tip_id)
        if not members:
            del self._clusters[cluster_id]
