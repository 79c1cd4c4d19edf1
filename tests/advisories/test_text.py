"""Advisory wording: sandboxed templates with variables, sensitive words, summaries."""

from __future__ import annotations

from datetime import date

import pytest

from bot.services.advisory_text import (
    TemplateProblem,
    Variables,
    describe_hits,
    plain_summary,
    render,
    sensitive_words,
)

VALUES = Variables(county="兰西县", day=date(2020, 2, 15), hotline="0455-5623110")


def test_variables_are_filled_in() -> None:
    text = render("{{ county }}公安局 {{ date }} 举报电话 {{ hotline }}", VALUES)
    assert text == "兰西县公安局 2020年2月15日 举报电话 0455-5623110"


def test_an_unknown_variable_is_a_clear_error_not_a_gap() -> None:
    with pytest.raises(TemplateProblem, match=r"未知变量.*可用变量：county、date、hotline"):
        render("请拨打 {{ hotlne }}", VALUES)


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateProblem, match="第 2 行语法有误"):
        render("第一行\n{% if %}", VALUES)


@pytest.mark.parametrize(
    "source",
    [
        "{{ county.__class__.__mro__ }}",
        "{{ ''.__class__.__subclasses__() }}",
        "{{ county.format.__globals__ }}",
    ],
)
def test_templates_cannot_reach_python_internals(source: str) -> None:
    with pytest.raises(TemplateProblem):
        render(source, VALUES)


def test_sensitive_words_found_with_positions_also_when_disguised() -> None:
    hits = sensitive_words("这是内部 资料，据传已经确诊。", extra=["确诊"])
    assert [(h.word, h.position) for h in hits] == [("内部资料", 3), ("据传", 9), ("确诊", 13)]
    assert sensitive_words("ＡＢＣ绝·密") and sensitive_words("请看机\u200b密文件")


def test_extra_words_are_case_and_width_insensitive() -> None:
    assert [h.word for h in sensitive_words("Fake News 不要信", extra=["fake news"])] == ["fake news"]


def test_clean_text_has_no_hits_and_the_message_lists_each_hit() -> None:
    assert sensitive_words("请大家少出门、勤洗手。不信谣、不传谣。") == []
    message = describe_hits(sensitive_words("据传据传"), "正文")
    assert message == "正文含有敏感词：「据传」（第 1 字），「据传」（第 3 字），请修改后再提交。"


def test_summary_is_one_line_without_markdown_marks() -> None:
    assert plain_summary("# 标题\n\n**请** 戴口罩 [详见](https://x.cn)", 50) == "标题 请 戴口罩 详见"
    assert plain_summary("一" * 130, 120) == "一" * 119 + "…"
