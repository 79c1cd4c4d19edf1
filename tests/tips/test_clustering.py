"""Clustering in the database: near-duplicates share a cluster, counters follow, every process agrees."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import make_sessionmaker
from bot.models import Role, Tip, TipCluster, TipIndexLog
from bot.runtime import Runtime
from bot.services import tip_placement, tip_review
from tests.factories import make_tip
from tests.tips.support import cluster_of, reviewer

ROAD = "紧急通知：明天起全县所有道路封闭，车辆一律不准出行，请互相转告！"
ROAD_AGAIN = "【转发】明天起全县所有道路封闭，车辆一律不准出行！！扩散周知"
ROAD_TRAD = "緊急通知：明天起全縣所有道路封閉，車輛一律不準出行"
GARLIC = "吃大蒜、喝白酒可以预防新型冠状病毒，大家多吃点"


def as_other_process() -> dict[str, tip_placement._SyncedIndex]:
    """Swap in an empty set of indexes (another process); returns this process's to swap back."""
    mine = dict(tip_placement._indexes)
    tip_placement._indexes.clear()
    return mine


def back_to(mine: dict[str, tip_placement._SyncedIndex]) -> None:
    tip_placement._indexes.clear()
    tip_placement._indexes.update(mine)


def test_near_duplicates_join_one_cluster_and_the_count_shows(
    rt: Runtime, db: Session, fresh_process: None
) -> None:
    first = make_tip(db, rt.settings, ROAD, reporter="1.1.1.1", seen_where="家族群")
    again = make_tip(db, rt.settings, ROAD_AGAIN, reporter="2.2.2.2", seen_where="家族群")
    trad = make_tip(db, rt.settings, ROAD_TRAD, reporter="3.3.3.3", seen_where="朋友圈")
    same_person = make_tip(db, rt.settings, ROAD, reporter="1.1.1.1", seen_where="业主群")
    other = make_tip(db, rt.settings, GARLIC, reporter="4.4.4.4")
    cluster = cluster_of(db, first)
    assert {t.cluster_id for t in (again, trad, same_person)} == {cluster.id}
    assert other.cluster_id != cluster.id
    assert (cluster.tip_count, cluster.reporter_count) == (4, 3)
    assert cluster.seen_places == ["家族群", "业主群", "朋友圈"]  # most reported first
    assert cluster.first_seen == first.created_at and cluster.last_seen == same_person.created_at
    assert cluster.summary.startswith("紧急通知")


def test_the_same_link_joins_whatever_the_words(rt: Runtime, db: Session, fresh_process: None) -> None:
    a = make_tip(db, rt.settings, "看看这个", url="https://www.example.cn/news/1?utm_source=wx&id=7")
    b = make_tip(db, rt.settings, "", url="http://example.cn/news/1/?id=7#top", kind="link")
    assert a.cluster_id == b.cluster_id


def test_a_link_inside_the_text_counts_as_its_link(rt: Runtime, db: Session, fresh_process: None) -> None:
    a = make_tip(db, rt.settings, "快看https://v.douyin.com/abc123/ 说要封城")
    b = make_tip(db, rt.settings, "这个视频 https://v.douyin.com/abc123 是真的吗")
    assert a.url == "https://v.douyin.com/abc123/" and a.cluster_id == b.cluster_id


def test_a_restarted_process_rebuilds_its_index_from_the_database(
    rt: Runtime, db: Session, fresh_process: None
) -> None:
    first = make_tip(db, rt.settings, ROAD)
    tip_placement._indexes.clear()  # the process restarts
    again = make_tip(db, rt.settings, ROAD_AGAIN)
    assert again.cluster_id == first.cluster_id


def test_tips_placed_by_another_process_are_seen_before_the_next_placement(
    rt: Runtime, db: Session, fresh_process: None
) -> None:
    make_tip(db, rt.settings, GARLIC)  # this process has an index now
    mine = as_other_process()
    theirs = make_tip(db, rt.settings, ROAD)  # placed by the other process
    back_to(mine)
    again = make_tip(db, rt.settings, ROAD_AGAIN)
    assert again.cluster_id == theirs.cluster_id


def test_a_merge_in_another_process_reaches_this_ones_index(
    rt: Runtime, db: Session, fresh_process: None
) -> None:
    road = make_tip(db, rt.settings, ROAD)
    garlic = make_tip(db, rt.settings, GARLIC)
    admin = reviewer(db, "管理员", Role.ADMIN)
    mine = as_other_process()
    tip_review.merge(
        db, rt.settings, admin, cluster_of(db, road), cluster_of(db, garlic), now=road.created_at
    )
    back_to(mine)
    again = make_tip(db, rt.settings, ROAD_AGAIN)
    assert again.cluster_id == garlic.cluster_id


def test_a_rolled_back_placement_leaves_no_trace_in_the_index(rt: Runtime, fresh_process: None) -> None:
    with rt.session() as db:
        make_tip(db, rt.settings, GARLIC)
    db = rt.sessions()
    make_tip(db, rt.settings, ROAD)
    make_tip(db, rt.settings, "再来一条，让索引读到上一条")
    db.rollback()
    db.close()
    with rt.session() as db:
        again = make_tip(db, rt.settings, ROAD_AGAIN)
        cluster = cluster_of(db, again)
        assert cluster.tip_count == 1  # a new cluster: the rolled-back one never existed
        assert db.scalar(select(func.count(Tip.id))) == 2


# --- many writers at once ---------------------------------------------------------------------------


def test_concurrent_reports_get_unique_tickets_and_one_cluster(
    committing_engine: Engine, base_settings: Settings, fresh_process: None
) -> None:
    own = Runtime(base_settings, committing_engine, make_sessionmaker(committing_engine))
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def report(n: int) -> None:
        try:
            barrier.wait()
            with own.session() as db:
                make_tip(db, own.settings, f"{ROAD}（第{n}位）", reporter=f"10.1.1.{n}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=report, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with own.session() as db:
        tickets = list(db.scalars(select(Tip.ticket)))
        assert len(tickets) == len(set(tickets)) == 6
        assert sorted(int(t[-4:]) for t in tickets) == [1, 2, 3, 4, 5, 6]
        clusters = list(db.scalars(select(TipCluster)))
        assert len(clusters) == 1 and clusters[0].tip_count == 6 and clusters[0].reporter_count == 6
        assert db.scalar(select(func.count(TipIndexLog.id))) == 6


def test_a_callback_never_waits_for_a_cold_index_the_job_clusters_its_tip(
    rt: Runtime, db: Session, fresh_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.tip_jobs import tip_intake
    from tests.tips.support import Chat

    make_tip(db, rt.settings, ROAD)
    db.commit()
    tip_placement._indexes.clear()  # a restarted process with "many" tips stored
    monkeypatch.setattr(tip_placement, "COLD_BUILD_MAX_TIPS", 0)
    Chat(rt, "oHurried").file(ROAD_AGAIN)
    hurried = db.scalars(select(Tip).order_by(Tip.id.desc())).first()
    assert hurried is not None and hurried.cluster_id is None
    assert tip_intake(rt, hurried.created_at)["placed"] == 1
    first = db.scalars(select(Tip).order_by(Tip.id)).first()
    db.refresh(hurried)
    assert first is not None and hurried.cluster_id == first.cluster_id
    Chat(rt, "oWarm").file(ROAD + "！")  # warm now: placed at once
    assert db.scalars(select(Tip).order_by(Tip.id.desc())).first().cluster_id == first.cluster_id  # type: ignore[union-attr]
