"""Per-channel messages: their shapes, their links, and byte limits with the excess named."""

from __future__ import annotations

from bot.models.enums import GroupKind
from bot.services.advisory_payloads import RenderedAdvisory, message_for

PAGE = "https://lanxi.example.cn/a/share-token-1"


def content(body: str = "请少出门、勤洗手。", body_format: str = "text", **kw: str) -> RenderedAdvisory:
    return RenderedAdvisory(title="倡议书", body=body, body_format=body_format, page_url=PAGE, **kw)


def test_robot_text_carries_the_whole_body_and_the_share_link() -> None:
    message = message_for(GroupKind.WECOM_ROBOT, content(link_url="https://gov.example.cn/x"))
    assert message.channel == "wecom_robot" and message.payload["msgtype"] == "text"
    text = message.payload["text"]["content"]
    assert (
        text.startswith("【倡议书】\n\n请少出门、勤洗手。")
        and PAGE in text
        and "https://gov.example.cn/x" in text
    )
    assert message.size == len(text.encode()) and message.problem() == ""


def test_robot_markdown_links_the_page() -> None:
    message = message_for(GroupKind.WECOM_ROBOT, content("**戴口罩**", "markdown"))
    assert message.payload == {
        "msgtype": "markdown",
        "markdown": {"content": f"# 倡议书\n\n**戴口罩**\n\n[查看全文、转发]({PAGE})"},
    }


def test_robot_text_over_2048_bytes_says_by_how_much() -> None:
    base = message_for(GroupKind.WECOM_ROBOT, content("")).size
    fits = message_for(GroupKind.WECOM_ROBOT, content("字" * ((2048 - base) // 3)))
    assert fits.size <= 2048 and not fits.problem()
    over = message_for(GroupKind.WECOM_ROBOT, content("字" * ((2048 - base) // 3) + "字字"))
    assert over.over_by == over.size - 2048 > 0
    assert over.problem().startswith(f"群机器人文本消息超出 2048 字节上限 {over.over_by} 字节")


def test_markdown_limit_is_4096_for_robots_but_2048_for_app_chats() -> None:
    body = "字" * 1000  # about 3000 bytes
    assert not message_for(GroupKind.WECOM_ROBOT, content(body, "markdown")).problem()
    chat = message_for(GroupKind.WECOM_APPCHAT, content(body, "markdown"))
    assert (
        chat.channel == "wecom_appchat" and "企业微信群聊 Markdown 消息超出 2048 字节上限" in chat.problem()
    )


def test_customer_group_task_has_a_short_text_and_a_link_card() -> None:
    message = message_for(GroupKind.WECOM_CUSTOMER_GROUP, content("一" * 300, cover_url="https://x/c.png"))
    assert message.channel == "wecom_customer_group"
    assert message.payload["text"]["content"].startswith("【倡议书】\n" + "一" * 119 + "…")
    assert message.payload["attachments"] == [
        {
            "msgtype": "link",
            "link": {"title": "倡议书", "desc": "一" * 119 + "…", "url": PAGE, "picurl": "https://x/c.png"},
        }
    ]


def test_official_account_mass_text_asks_for_a_reply() -> None:
    message = message_for(GroupKind.OA_TAG, content())
    assert message.channel == "oa_mass" and message.payload["msgtype"] == "text"
    assert f'<a href="{PAGE}">点击查看全文</a>' in message.payload["text"]["content"]
    assert "收到" in message.payload["text"]["content"]


def test_manual_forwarding_task_names_the_group_and_the_task_page() -> None:
    message = message_for(
        GroupKind.MANUAL, content(), group_name="城关村群", task_url="https://p/advisories/tasks"
    )
    assert message.channel == "wecom_app"
    text = message.payload["text"]["content"]
    assert "「城关村群」" in text and PAGE in text and "https://p/advisories/tasks" in text
