"""Pairwise precision and recall of tip clustering against a labelled set.

Shared by ``bench/tip_clustering.py`` and the tests, so both judge the clustering the same way.
A pair of tips counts as predicted when both land in one cluster and as true when both carry
one label; precision and recall are over pairs, so a wrong merge of two big clusters costs a lot.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .tip_clustering import TipIndex
from .tip_text import extract_urls


@dataclass(frozen=True)
class LabelledTip:
    text: str
    label: str
    url: str | None = None


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    true_pairs: int  # pairs sharing a label
    predicted_pairs: int  # pairs sharing a predicted cluster
    correct_pairs: int  # both


def load_labelled_tips(path: Path) -> list[LabelledTip]:
    """JSON lines ``{"text": ..., "cluster": label[, "url": ...]}``; blank lines skipped."""
    tips = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                tips.append(LabelledTip(text=row["text"], label=row["cluster"], url=row.get("url")))
    return tips


def _pairs(counts: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts)


def pair_scores(labels: Sequence[str], predicted: Sequence[int]) -> PairScores:
    """Pairwise scores from counts, without enumerating the pairs."""
    if len(labels) != len(predicted):
        raise ValueError("labels and predictions differ in length")
    true_pairs = _pairs(Counter(labels).values())
    predicted_pairs = _pairs(Counter(predicted).values())
    correct_pairs = _pairs(Counter(zip(labels, predicted, strict=True)).values())
    # No pairs claimed (or none to find) is perfect on that side, not a division by zero.
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    return PairScores(precision, recall, true_pairs, predicted_pairs, correct_pairs)


def place_in_order(tips: Sequence[LabelledTip], index: TipIndex, first_tip_id: int) -> list[int]:
    """Add the tips one by one, as they would arrive; the clusters they were put in."""
    clusters = []
    for offset, tip in enumerate(tips):
        url = tip.url
        if url is None:
            url = next(iter(extract_urls(tip.text)), None)
        placement = index.add(first_tip_id + offset, text=tip.text, url=url)
        clusters.append(placement.cluster_id)
    return clusters


def evaluate(tips: Sequence[LabelledTip], index: TipIndex | None = None) -> PairScores:
    """Cluster the tips by placement (into ``index``, else a fresh one) and score the result."""
    index = index if index is not None else TipIndex()
    first_tip_id = max((*index.tip_ids(), 0)) + 1
    predicted = place_in_order(tips, index, first_tip_id)
    return pair_scores([tip.label for tip in tips], predicted)
