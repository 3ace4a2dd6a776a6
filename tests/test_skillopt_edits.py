"""Edit operations, the protected guidance block, merging, ranking, leak checks and the edit budget."""

from __future__ import annotations

import pytest

from mimo_tui.skillopt.budget import edit_budget
from mimo_tui.skillopt.edits import (
    GUIDANCE_END, GUIDANCE_START, Edit, apply_edits, edit_from_dict, guidance_text, merge_edits,
    rank_edits, set_guidance,
)

SKILL = "---\nname: demo\ndescription: a demo\n---\n\n# Demo\n\nRule one.\nRule two.\n"


def test_append_adds_at_the_end() -> None:
    result = apply_edits(SKILL, [Edit("append", "Rule three.")])
    assert result.text.endswith("Rule two.\n\nRule three.\n")
    assert [r.status for r in result.reports] == ["applied"]


def test_insert_after_puts_text_after_the_target_line() -> None:
    result = apply_edits(SKILL, [Edit("insert_after", "Rule one and a half.", target="Rule one")])
    assert "Rule one.\nRule one and a half.\nRule two." in result.text


def test_replace_and_delete_need_exact_targets() -> None:
    result = apply_edits(SKILL, [Edit("replace", "Rule 2.", target="Rule two."), Edit("delete", target="Rule one.\n")])
    assert "Rule 2." in result.text and "Rule one." not in result.text and "Rule two." not in result.text
    assert all(r.status == "applied" for r in result.reports)


@pytest.mark.parametrize("op", ["insert_after", "replace", "delete"])
def test_missing_target_is_skipped_and_recorded(op: str) -> None:
    result = apply_edits(SKILL, [Edit(op, "x", target="Rule nine."), Edit("append", "Rule three.")])
    assert result.reports[0].status == "skipped"
    assert "not found" in result.reports[0].reason
    assert result.reports[1].status == "applied"
    assert "Rule three." in result.text


def test_front_matter_is_not_editable() -> None:
    result = apply_edits(SKILL, [Edit("replace", "name: other", target="name: demo")])
    assert result.reports[0].status == "refused"
    assert result.text == SKILL


def test_protected_block_is_refused_to_ordinary_edits_and_kept_last() -> None:
    text = set_guidance(SKILL, "Keep answers short.")
    assert guidance_text(text) == "Keep answers short."
    result = apply_edits(text, [
        Edit("replace", "Write long answers.", target="Keep answers short."),
        Edit("delete", target=GUIDANCE_START),
        Edit("append", f"{GUIDANCE_END} sneaky"),
        Edit("append", "Rule three."),
    ])
    assert [r.status for r in result.reports] == ["refused", "refused", "refused", "applied"]
    assert guidance_text(result.text) == "Keep answers short."
    assert result.text.index("Rule three.") < result.text.index(GUIDANCE_START)
    updated = set_guidance(result.text, "New guidance.")
    assert guidance_text(updated) == "New guidance." and updated.count(GUIDANCE_START) == 1


def test_length_check_refuses_an_edit_and_reports_why() -> None:
    result = apply_edits(SKILL, [Edit("append", "word " * 50), Edit("append", "Short.")],
                         length_ok=lambda old, new: "too long" if len(new) > len(SKILL) + 100 else None)
    assert [r.status for r in result.reports] == ["refused", "applied"]
    assert result.reports[0].reason == "too long"


def test_parse_rejects_unknown_ops_and_missing_fields() -> None:
    assert edit_from_dict({"op": "append", "text": "x"}).op == "append"
    with pytest.raises(ValueError, match="unknown edit operation"):
        edit_from_dict({"op": "explode", "text": "x"})
    with pytest.raises(ValueError, match="needs a non-empty 'target'"):
        edit_from_dict({"op": "replace", "text": "x"})
    with pytest.raises(ValueError, match="needs a non-empty 'text'"):
        edit_from_dict({"op": "append"})


def test_merge_sums_duplicates_and_drops_edits_on_the_same_text() -> None:
    proposals = [
        Edit("append", "Rule three.", support=2),
        Edit("append", "rule  three.", support=1),
        Edit("replace", "Rule 1.", target="Rule one.", support=3),
        Edit("delete", target="Rule one.", support=1),
    ]
    merged, conflicts = merge_edits(proposals)
    assert [(e.op, e.support) for e in merged] == [("append", 3), ("replace", 3)] or \
        [(e.op, e.support) for e in merged] == [("replace", 3), ("append", 3)]
    assert len(conflicts) == 1 and conflicts[0]["op"] == "delete"
    kept, dropped = rank_edits([Edit("append", "a", support=1), Edit("append", "b", support=5)], budget=1)
    assert [e.text for e in kept] == ["b"] and [e.text for e in dropped] == ["a"]



def test_edit_budget_schedules() -> None:
    assert [edit_budget(i, 5, 4, 2, "constant") for i in range(5)] == [4] * 5
    assert [edit_budget(i, 5, 4, 2, "linear") for i in range(5)] == [4, 4, 3, 2, 2]
    cosine = [edit_budget(i, 9, 4, 2, "cosine") for i in range(9)]
    assert cosine[0] == 4 and cosine[-1] == 2 and cosine == sorted(cosine, reverse=True)


def test_length_limits_act_on_the_final_text_only() -> None:
    # an append that passes the max on the way, then a replacement that shortens it back: both fine
    skill = SKILL + "A long and wordy rule that says very little of use to anyone.\n"
    limit = len(skill) + 5
    edits = [Edit("append", "A new rule of about fifty characters, give or take."),
             Edit("replace", "Short.", "A long and wordy rule that says very little of use to anyone.")]
    result = apply_edits(skill, edits, length_ok=lambda old, new: "max" if len(new) > limit else None)
    assert [r.status for r in result.reports] == ["applied", "applied"]
    # over the max, the lowest-ranked edit that fixes it is the one refused, with the limit's reason
    edits = [Edit("append", "First rule."), Edit("append", "word " * 40), Edit("append", "Third rule.")]
    result = apply_edits(SKILL, edits, length_ok=lambda old, new: "max_tokens limit" if len(new) > len(SKILL) + 60 else None)
    assert [r.status for r in result.reports] == ["applied", "refused", "applied"]
    assert result.reports[1].reason == "max_tokens limit"
