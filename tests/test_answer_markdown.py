"""The chat's markdown reuses one parser; what it draws is exactly what Rich's own Markdown draws."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown as RichMarkdown

from mimo_tui.ui.chat.answer_segment import AnswerMarkdown, answer_markdown

SAMPLES = [
    "## Title\n\nSome **bold** and *emphasis*, `code`, ~~struck~~ and a [link](http://example.com).\n",
    "```python\ndef handle(request):\n    return render(request.path)\n```\n\n- one\n- two\n\n1. first\n2. second\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted\n\n---\n",
    "",
]


def drawn(renderable: object) -> str:
    console = Console(width=60, record=True, force_terminal=True, color_system="truecolor", file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text(styles=True)


class RichLeftHeadings(RichMarkdown):
    elements = AnswerMarkdown.elements


def test_the_shared_parser_draws_what_a_fresh_rich_markdown_draws() -> None:
    for sample in SAMPLES * 2:  # twice: the second parse with the same parser must not differ from the first
        expected = drawn(RichLeftHeadings(sample, code_theme="monokai", hyperlinks=False))
        assert drawn(answer_markdown(sample)) == expected
    assert AnswerMarkdown._parser is not None
    first = answer_markdown("x")
    assert vars(first).keys() == vars(RichLeftHeadings("x", hyperlinks=False)).keys()
