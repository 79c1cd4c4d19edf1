"""The evidence archive of a cluster: original contents, media and hashes, history, access log, manifest."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEvent, Role, TipCluster, TipMedia, utcnow
from bot.runtime import Runtime
from bot.services import audit, leads, tip_evidence, tip_review
from tests.factories import login, make_tip, make_user
from tests.tips.support import cluster_of, reviewer, rumor_lead

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
RUMOR = "群里都在传：明天开始全县断网断电，大家赶紧准备"


def build_case(rt: Runtime, db: Session) -> TipCluster:
    make_tip(db, rt.settings, RUMOR, reporter="1.1.1.1", contact="13900002222", upload=PNG)
    cluster = cluster_of(db, make_tip(db, rt.settings, RUMOR + "！！", reporter="2.2.2.2", seen_where="快手"))
    police = reviewer(db, "网警甲")
    tip_review.claim(db, rt.settings, police, cluster, now=utcnow())
    lead = rumor_lead(
        rt,
        db,
        police,
        cluster,
        reason="供电局证实",
        debunk="不会断网断电。",
        station="临江派出所",
        task="找发布人",
    )
    leads.record_outcome(
        db, reviewer(db, "民警", Role.STATION_OFFICER, lead.station), lead, "行政处罚", "罚款五百元"
    )
    return cluster


def read(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_archive_holds_everything_with_a_manifest_of_hashes(rt: Runtime, db: Session) -> None:
    cluster = build_case(rt, db)
    viewer = reviewer(db, "网警乙")
    audit.record(db, viewer, "tips.view", record_type="tip_cluster", record_id=cluster.id)
    archive = tip_evidence.export(db, rt.settings, viewer, cluster, now=utcnow())
    files = read(archive.content)

    manifest = json.loads(files.pop("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files)
    for path, data in files.items():
        assert listed[path]["sha256"] == hashlib.sha256(data).hexdigest() and listed[path]["size"] == len(
            data
        )
    assert manifest["cluster_id"] == cluster.id and manifest["generated_by"] == viewer.label

    tips = json.loads(files["tips.json"])
    assert [t["text"] for t in tips] == [RUMOR, RUMOR + "！！"]
    (media_entry,) = tips[0]["media"]
    stored = db.scalars(select(TipMedia)).one()
    assert (
        files[media_entry["file"]] == PNG
        and media_entry["sha256"] == stored.sha256 == hashlib.sha256(PNG).hexdigest()
    )
    assert all(t["submitted_at"] and t["submitted_at_local"] for t in tips)

    cluster_json = json.loads(files["cluster.json"])
    assert (cluster_json["status"], cluster_json["debunk_text"]) == ("谣言", "不会断网断电。")
    actions = [r["action"] for r in json.loads(files["reviews.json"])]
    assert actions == ["claim", "status", "decide", "lead"]
    (lead,) = json.loads(files["leads.json"])
    assert (lead["station"], lead["outcome"], lead["outcome_note"]) == (
        "临江派出所",
        "行政处罚",
        "罚款五百元",
    )
    access = json.loads(files["access_log.json"])
    assert {"who": viewer.label, "action": "tips.view"}.items() <= access[-1].items()

    everything = b"".join(files.values()).decode("utf-8", "replace")
    assert "13900002222" not in everything  # the reporter's contact stays out of the case file
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "tips.export")).one()
    assert event.detail["sha256"] == archive.sha256 == hashlib.sha256(archive.content).hexdigest()


def test_exporting_from_the_page_downloads_the_zip(rt: Runtime, client: FlaskClient, db: Session) -> None:
    cluster = build_case(rt, db)
    user = make_user(db, Role.CYBER_POLICE)
    db.commit()
    login(client, user.username)
    page = client.get(f"/tips/clusters/{cluster.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    assert client.get(f"/tips/clusters/{cluster.id}/export").status_code == 405  # no download without a POST
    answer = client.post(f"/tips/clusters/{cluster.id}/export", data={"csrf_token": token[1]})
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert answer.headers["X-Archive-SHA256"] == hashlib.sha256(answer.data).hexdigest()
    assert f"tip-cluster-{cluster.id}-" in answer.headers["Content-Disposition"]
    access = json.loads(read(answer.data)["access_log.json"])
    assert any(e["who"] == user.username and e["action"] == "tips.view" for e in access)
