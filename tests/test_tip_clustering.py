"""Near-duplicate clustering of rumor tips: normalisation, links, images, reviewer edits, quality."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image, ImageDraw, ImageFilter

from bench.tip_clustering import DEFAULT_DATA, measure_quality, measure_speed
from bot.services import tip_image
from bot.services.clustering_eval import pair_scores
from bot.services.tip_clustering import StoredTip, TipIndex, image_phash
from bot.services.tip_image import TipImageError
from bot.services.tip_text import extract_urls, normalize_tip_text, normalize_url

RUMOR = "兰西县人民医院发现10例确诊病例，大家千万别去医院了"


# --- text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "转发：【紧急通知】" + RUMOR + "！请转发给身边的人",
            "兰西县人民医院发现10例确诊病例大家千万别去医院了",
        ),
        (
            "蘭西縣人民醫院發現10例確診病例，大家千萬別去醫院了",
            "兰西县人民医院发现10例确诊病例大家千万别去医院了",
        ),
        ("😱😱兰西县人民医院⚠️发现１０例确诊！！！", "兰西县人民医院发现10例确诊"),
        ("刚刚！震惊！明天起全县封城，是真的吗？", "明天起全县封城"),
        ("看看这个 https://example.com/a?b=1 喝高度白酒可以杀死病毒", "看看这个喝高度白酒可以杀死病毒"),
        ("转发", ""),
        ("速看！！", ""),
    ],
)
def test_normalize_tip_text(raw: str, expected: str) -> None:
    assert normalize_tip_text(raw) == expected


def test_framing_words_inside_the_rumor_are_kept() -> None:
    # 转发 is only framing at the edges; in the middle it is part of the claim.
    assert normalize_tip_text("禁止转发疫情视频") == "禁止转发疫情视频"


def test_extract_urls_stops_at_chinese_text() -> None:
    text = "看这个http://mp.weixin.qq.com/s?__biz=Mz&mid=1点开 还有 www.Example.com/x。"
    assert extract_urls(text) == ["http://mp.weixin.qq.com/s?__biz=Mz&mid=1", "www.Example.com/x"]


# --- links ---------------------------------------------------------------------------------

ARTICLE = "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=8f3c"


@pytest.mark.parametrize(
    "url",
    [
        "http://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=8f3c&chksm=84a1&scene=21#wechat_redirect",
        "https://MP.WEIXIN.QQ.COM/s?sn=8f3c&idx=1&mid=2650&__biz=MzA3&from=groupmessage&isappinstalled=0",
        "https://mp.weixin.qq.com/s?__biz=MzA3&appmsgid=2650&itemidx=1&sign=8f3c&sharer_sharetime=1",
        "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=8f3c&clicktime=1&enterid=2#rd",
    ],
)
def test_weixin_articles_are_keyed_by_biz_mid_idx_sn(url: str) -> None:
    assert normalize_url(url) == ARTICLE


def test_normalize_url_drops_tracking_and_sorts_the_rest() -> None:
    url = "HTTP://www.Example.COM:80/path/?utm_source=wx&b=2&a=1&from=timeline&share_token=x#top"
    assert normalize_url(url) == "https://example.com/path?a=1&b=2"
    assert normalize_url("www.example.com") == "https://example.com/"
    assert normalize_url("https://example.com:8443/x") == "https://example.com:8443/x"


def test_a_different_article_keeps_a_different_key() -> None:
    assert normalize_url(ARTICLE.replace("idx=1", "idx=2")) != ARTICLE


def test_same_link_joins_the_cluster_whatever_the_text() -> None:
    index = TipIndex()
    first = index.add(1, text="这个是真的吗", url=ARTICLE + "&scene=21#rd")
    second = index.add(
        2, text="群里都在转这个", url="http://mp.weixin.qq.com/s?idx=1&sn=8f3c&__biz=MzA3&mid=2650"
    )
    assert second.cluster_id == first.cluster_id
    assert second.match is not None and second.match.via == "url" and second.matched_tip_id == 1


# --- text placement ------------------------------------------------------------------------


def test_forwards_of_one_rumor_share_a_cluster_and_different_rumors_do_not() -> None:
    index = TipIndex()
    base = index.add(1, text=RUMOR)
    assert base.created and base.match is None
    variants = [
        "紧急扩散：兰西县人民医院发现10例确诊病例，医院已经封了！！",
        "蘭西縣人民醫院發現10例確診",
        "兰西县人民医院发先10例确诊，大家注意",  # typo
        "兰西县人民医院发现10例确诊病例，大家千万",  # truncated
    ]
    for tip_id, text in enumerate(variants, start=2):
        placement = index.add(tip_id, text=text)
        assert placement.cluster_id == base.cluster_id, text
        assert not placement.created and placement.score is not None and placement.score > 0.36
    other = index.add(10, text="兰西县人民医院今天新增发热门诊，24小时接诊")
    assert other.created and other.cluster_id != base.cluster_id
    assert index.members(base.cluster_id) == frozenset({1, 2, 3, 4, 5})


def test_short_texts_are_not_clustered_by_text_alone() -> None:
    index = TipIndex()
    first = index.add(1, text="双黄连！")
    second = index.add(2, text="双黄连？？")
    assert second.cluster_id != first.cluster_id
    assert index.place(text="转发") is None


def test_place_does_not_store() -> None:
    index = TipIndex()
    index.add(1, text=RUMOR)
    match = index.place(text="转发：" + RUMOR)
    assert match is not None and match.score == 1.0 and match.via == "text"
    assert len(index) == 1 and 2 not in index


def test_cluster_ids_come_from_the_allocator_or_the_caller() -> None:
    ids = itertools.count(100)
    index = TipIndex(new_cluster_id=lambda: next(ids))
    assert index.add(1, text=RUMOR).cluster_id == 100
    assert index.add(2, text="喝高度白酒可以杀死病毒，每天喝二两").cluster_id == 101
    given = index.add(3, text="转发：" + RUMOR, cluster_id=7)
    assert given.cluster_id == 7 and given.created and given.match is None
    with pytest.raises(ValueError, match="already indexed"):
        index.add(3, text=RUMOR)


def test_known_places_keep_look_alike_rumors_apart() -> None:
    index = TipIndex(places=["榆林镇", "临江镇"])
    first = index.add(1, text="榆林镇阳光小区3号楼有人确诊，已经封楼了，住附近的注意")
    other_town = index.add(2, text="临江镇阳光小区3号楼有人确诊，已经封楼了，住附近的注意")
    same_town = index.add(3, text="转发：榆林镇阳光小区3号楼有人确诊，已经封楼了")
    assert other_town.cluster_id != first.cluster_id
    assert same_town.cluster_id == first.cluster_id


# --- reviewers: merge, split, remove, rebuild ----------------------------------------------


def test_reassign_splits_and_later_tips_follow_the_reviewer() -> None:
    index = TipIndex()
    cluster = index.add(1, text=RUMOR).cluster_id
    index.add(2, text="兰西县人民医院发现10例确诊病例，医院已经封了")
    index.reassign(2, 50)  # a reviewer splits tip 2 off
    assert index.cluster_of(2) == 50 and index.members(cluster) == frozenset({1})
    # An identical forward of tip 2 follows the reviewer's decision.
    assert index.add(3, text="转发：兰西县人民医院发现10例确诊病例，医院已经封了").cluster_id == 50


def test_merge_moves_every_tip() -> None:
    index = TipIndex()
    a = index.add(1, text=RUMOR).cluster_id
    b = index.add(2, text="喝高度白酒可以杀死病毒，每天喝二两就不会被传染").cluster_id
    index.add(3, text="喝高度白酒可以杀死病毒！每天喝二两")
    index.merge(b, a)
    assert index.members(a) == frozenset({1, 2, 3}) and index.members(b) == frozenset()
    assert index.add(4, text="转发：喝高度白酒可以杀死病毒，每天喝二两就不会被传染").cluster_id == a


def test_remove_forgets_text_link_and_image() -> None:
    index = TipIndex()
    phash = image_phash(_png(_pattern(1)))
    cluster = index.add(1, text=RUMOR, url=ARTICLE, image_phash=phash).cluster_id
    index.remove(1)
    index.remove(1)  # unknown ids are ignored
    assert len(index) == 0 and index.members(cluster) == frozenset()
    assert index.place(text=RUMOR, url=ARTICLE, image_phash=phash) is None


def test_weak_joins_do_not_pull_further_tips_in() -> None:
    index = TipIndex()
    index.rebuild(
        [
            StoredTip(tip_id=1, cluster_id=5, text="喝高度白酒可以杀死病毒，每天喝二两就不会被传染"),
            StoredTip(tip_id=2, cluster_id=6, text=RUMOR, match_score=0.4),  # joined weakly
        ]
    )
    assert index.cluster_of(1) == 5 and index.cluster_of(2) == 6
    assert index.place(text="喝高度白酒可以杀死病毒！每天喝二两").cluster_id == 5  # type: ignore[union-attr]
    # Only identical text reaches the weak tip; a reworded forward does not.
    assert index.place(text="转发：" + RUMOR) is not None
    assert index.place(text="兰西县人民医院发现10例确诊病例，医院已经封了") is None
    index.reassign(2, 6)  # a reviewer confirms it
    assert index.place(text="兰西县人民医院发现10例确诊病例，医院已经封了") is not None


def test_rebuild_replaces_everything() -> None:
    index = TipIndex()
    index.add(1, text=RUMOR)
    index.rebuild([StoredTip(tip_id=9, cluster_id=3, text="喝高度白酒可以杀死病毒")])
    assert index.tip_ids() == [9] and index.cluster_of(9) == 3
    with pytest.raises(ValueError, match="twice"):
        index.rebuild([StoredTip(tip_id=1, cluster_id=1), StoredTip(tip_id=1, cluster_id=2)])


# --- images --------------------------------------------------------------------------------


def _pattern(seed: int) -> Image.Image:
    image = Image.new("RGB", (240, 320), "white")
    draw = ImageDraw.Draw(image)
    for i in range(12):  # a screenshot-like layout of blocks, different per seed
        x, y = (seed * 37 + i * 53) % 200, (seed * 91 + i * 29) % 280
        draw.rectangle((x, y, x + 30 + i * 3, y + 12), fill=(i * 20, 0, 255 - i * 20))
    draw.ellipse((20 + seed * 10, 20, 120 + seed * 10, 120), fill="black")
    return image


def _png(image: Image.Image, fmt: str = "PNG", **options: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def test_reshared_screenshots_group_and_different_ones_do_not() -> None:
    original = _pattern(1)
    reshared = original.resize((180, 240)).filter(ImageFilter.GaussianBlur(1))
    index = TipIndex()
    first = index.add(1, text=None, image_phash=image_phash(_png(original)))
    again = index.add(2, text=None, image_phash=image_phash(_png(reshared, "JPEG", quality=60)))
    other = index.add(3, text=None, image_phash=image_phash(_png(_pattern(7))))
    assert again.cluster_id == first.cluster_id and again.match is not None and again.match.via == "image"
    assert other.cluster_id != first.cluster_id


def test_image_phash_refuses_huge_or_broken_images(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(image_phash(_png(_pattern(2)))) == 16
    with pytest.raises(TipImageError, match="unreadable"):
        image_phash(b"not an image")
    monkeypatch.setattr(tip_image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(TipImageError, match="too large"):
        image_phash(_png(_pattern(2)))


# --- quality -------------------------------------------------------------------------------


def test_pair_scores_count_pairs() -> None:
    # Labels a a a b; predicted {1,1} {2,2}: one right pair, one wrong, two missed.
    scores = pair_scores(["a", "a", "a", "b"], [1, 1, 2, 2])
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (3, 2, 1)
    assert scores.precision == 0.5 and scores.recall == pytest.approx(1 / 3)
    assert pair_scores(["a", "b"], [1, 2]).precision == 1.0


def test_labelled_set_meets_the_targets() -> None:
    (scores,) = measure_quality(DEFAULT_DATA, orders=1)
    assert scores.true_pairs > 700
    assert scores.precision >= 0.95
    assert scores.recall >= 0.90


def test_benchmark_runs_on_a_small_index() -> None:
    speed = measure_speed(stored=2000, placements=60)
    assert speed.placements == 60 and speed.p95_ms > 0
    assert speed.forwards_joined >= 0.9
