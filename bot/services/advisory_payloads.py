"""What an advisory looks like on each channel, and whether it fits there.

One function per group kind builds the outbox payload from the rendered advisory and the target's
share link (so opens and forwards are counted per group). Byte limits are WeChat's (UTF-8: a Chinese
character takes three bytes) and are checked before anything is queued, with an error that says by
how many bytes a message is over. The channels check again when sending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.models.enums import GroupKind
from bot.services.advisory_text import plain_summary, utf8_len

MARKDOWN = "markdown"
CARD_SUMMARY_CHARS = 120


@dataclass(frozen=True)
class RenderedAdvisory:
    """An advisory with its variables filled in, and the links one target's copy carries."""

    title: str
    body: str
    body_format: str  # "text" | "markdown"
    page_url: str  # the public page under this target's share token
    link_url: str = ""
    cover_url: str = ""

    @property
    def summary(self) -> str:
        return plain_summary(self.body, CARD_SUMMARY_CHARS)

    @property
    def is_markdown(self) -> bool:
        return self.body_format == MARKDOWN


@dataclass(frozen=True)
class Limit:
    label: str  # how the channel is named to staff
    max_bytes: int


@dataclass(frozen=True)
class ChannelMessage:
    """One outbox payload for one target, with the size WeChat will measure."""

    channel: str
    payload: dict[str, Any]
    label: str
    size: int
    max_bytes: int

    @property
    def over_by(self) -> int:
        return max(self.size - self.max_bytes, 0)

    def problem(self) -> str:
        """'' when it fits; else the Chinese error naming the channel and the excess."""
        if not self.over_by:
            return ""
        return (
            f"{self.label}超出 {self.max_bytes} 字节上限 {self.over_by} 字节"
            f"（共 {self.size} 字节，一个汉字占 3 字节），请删减后再提交。"
        )


def _text_with_links(advisory: RenderedAdvisory, *, full_body: bool = True) -> str:
    body = advisory.body.strip() if full_body else advisory.summary
    parts = [f"【{advisory.title}】", body, f"查看全文、转发请用此链接：{advisory.page_url}"]
    if advisory.link_url:
        parts.append(f"相关链接：{advisory.link_url}")
    return "\n\n".join(parts)


def _markdown(advisory: RenderedAdvisory) -> str:
    parts = [f"# {advisory.title}", advisory.body.strip(), f"[查看全文、转发]({advisory.page_url})"]
    if advisory.link_url:
        parts.append(f"[相关链接]({advisory.link_url})")
    return "\n\n".join(parts)


def _text_or_markdown(
    advisory: RenderedAdvisory, text_limit: Limit, markdown_limit: Limit
) -> tuple[dict[str, Any], Limit, str]:
    if advisory.is_markdown:
        content = _markdown(advisory)
        return {"msgtype": "markdown", "markdown": {"content": content}}, markdown_limit, content
    content = _text_with_links(advisory)
    return {"msgtype": "text", "text": {"content": content}}, text_limit, content


def robot(advisory: RenderedAdvisory) -> ChannelMessage:
    payload, limit, content = _text_or_markdown(
        advisory, Limit("群机器人文本消息", 2048), Limit("群机器人 Markdown 消息", 4096)
    )
    return ChannelMessage("wecom_robot", payload, limit.label, utf8_len(content), limit.max_bytes)


def appchat(advisory: RenderedAdvisory) -> ChannelMessage:
    payload, limit, content = _text_or_markdown(
        advisory, Limit("企业微信群聊文本消息", 2048), Limit("企业微信群聊 Markdown 消息", 2048)
    )
    return ChannelMessage("wecom_appchat", payload, limit.label, utf8_len(content), limit.max_bytes)


def link_card(advisory: RenderedAdvisory) -> dict[str, str]:
    """The card a shared link shows in WeChat: title, summary, cover."""
    card = {"title": advisory.title, "desc": advisory.summary, "url": advisory.page_url}
    if advisory.cover_url:
        card["picurl"] = advisory.cover_url
    return card


def customer_group(advisory: RenderedAdvisory) -> ChannelMessage:
    """A group-send task the owner confirms in WeCom: a short text and the page as a link card."""
    content = f"【{advisory.title}】\n{advisory.summary}"
    payload = {
        "text": {"content": content},
        "attachments": [{"msgtype": "link", "link": link_card(advisory)}],
    }
    return ChannelMessage("wecom_customer_group", payload, "客户群群发文本", utf8_len(content), 4000)


def official_account(advisory: RenderedAdvisory) -> ChannelMessage:
    """A mass text to a tag or to all followers: title, summary and the page link.

    (A news message would need the article uploaded as permanent material first.)"""
    # WeChat reads <a> tags in this text: the composer's words must not add links of their own.
    title, summary = (
        text.replace("<", "＜").replace(">", "＞") for text in (advisory.title, advisory.summary)
    )
    content = f'【{title}】\n{summary}\n\n<a href="{advisory.page_url}">点击查看全文</a>，收到请回复“收到”。'
    payload = {"msgtype": "text", "text": {"content": content}}
    return ChannelMessage("oa_mass", payload, "公众号群发文本", utf8_len(content), 2048)


def forwarding_task(advisory: RenderedAdvisory, group_name: str, task_url: str) -> ChannelMessage:
    """The WeCom app message asking a forwarder to pass the advisory into their group by hand."""
    content = (
        f"【转发任务】请将倡议书《{advisory.title}》转发到「{group_name}」。\n"
        f"转发链接（本群专用，可统计阅读和转发）：{advisory.page_url}\n"
        f"转发后请点此标记完成：{task_url}"
    )
    payload = {"msgtype": "text", "text": {"content": content}}
    return ChannelMessage("wecom_app", payload, "转发任务通知", utf8_len(content), 2048)


BUILDERS: Mapping[GroupKind, Callable[[RenderedAdvisory], ChannelMessage]] = {
    GroupKind.WECOM_ROBOT: robot,
    GroupKind.WECOM_APPCHAT: appchat,
    GroupKind.WECOM_CUSTOMER_GROUP: customer_group,
    GroupKind.OA_TAG: official_account,
}

KIND_LABELS: Mapping[GroupKind, str] = {
    GroupKind.WECOM_ROBOT: "企业微信群机器人",
    GroupKind.WECOM_APPCHAT: "企业微信群聊",
    GroupKind.WECOM_CUSTOMER_GROUP: "企业微信客户群",
    GroupKind.OA_TAG: "公众号标签/全部关注者",
    GroupKind.MANUAL: "人工转发",
}


def message_for(
    kind: GroupKind, advisory: RenderedAdvisory, *, group_name: str = "", task_url: str = ""
) -> ChannelMessage:
    if kind == GroupKind.MANUAL:
        return forwarding_task(advisory, group_name, task_url)
    return BUILDERS[kind](advisory)
