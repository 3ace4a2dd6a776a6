"""Multi-file skills (SKILL.md + scripts/ + references/ as one versioned unit) and the managed region of SKILL.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.skillopt.adoption import adopt
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.edits import Edit, apply_edits, edit_from_dict, set_guidance
from mimo_tui.skillopt.managed_region import MANAGED_END, MANAGED_START, OUTSIDE_MANAGED, strip_managed_region
from mimo_tui.skillopt.offline_models import _target
from mimo_tui.skillopt.prompts import REFLECT_MARK, rollout_messages
from mimo_tui.skillopt.session import skill_relpath
from mimo_tui.skillopt.skill_files import SkillFileError, check_path, pack, read_skill_files, unpack
from mimo_tui.skillopt.staging import load_proposal, version_files
from mimo_tui.store import USER
from tests.fixtures.skillopt_project import DEMO, TrainerProject

NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)
SKILL = "---\nname: demo\ndescription: d\n---\n\n# Demo\n\nRule one.\nRule two.\n"


def test_edits_stay_inside_the_managed_region_and_the_users_lines_keep_their_bytes() -> None:
    result = apply_edits(SKILL, [Edit("append", "Machine rule."), Edit("replace", "Rule 2.", target="Rule two.")], managed=True)
    assert [r.status for r in result.reports] == ["applied", "refused"]
    assert result.reports[1].reason == OUTSIDE_MANAGED
    assert result.text.startswith(SKILL) and f"{MANAGED_START}\nMachine rule.\n{MANAGED_END}\n" in result.text
    more = apply_edits(result.text, [Edit("replace", "Machine rule, refined.", target="Machine rule."),
                                     Edit("append", "Second machine rule.")], managed=True)
    assert [r.status for r in more.reports] == ["applied", "applied"]
    guided = set_guidance(more.text, "Review of the last epoch.", managed=True)
    inside = guided[guided.index(MANAGED_START):]
    assert "Machine rule, refined.\nSecond machine rule.\n<!-- SLOW_UPDATE -->" in inside and inside.endswith(f"{MANAGED_END}\n")
    assert strip_managed_region(guided) == SKILL
    # --edit-whole: the user's lines may be edited
    assert apply_edits(SKILL, [Edit("replace", "Rule 2.", target="Rule two.")]).reports[0].status == "applied"


def test_a_packed_version_round_trips_and_paths_outside_the_skill_are_refused(tmp_path: Path) -> None:
    files = {"SKILL.md": SKILL, "references/notes.md": "Day first.\n", "scripts/run.sh": "echo hi"}
    assert unpack(pack(files)) == files and pack({"SKILL.md": SKILL}) == SKILL
    for bad in ("../x.md", "/etc/passwd", "notes.md", "eval/train.jsonl"):
        with pytest.raises(SkillFileError):
            check_path(bad)
    with pytest.raises(ValueError, match="outside the skill folder"):
        edit_from_dict({"op": "append", "text": "x", "file": "../../MEMORY.md"})
    assert edit_from_dict({"op": "append", "text": "x", "file": "references/notes.md"}).file == "references/notes.md"
    folder = tmp_path / "skill"
    (folder / "references").mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL)
    (folder / "references" / "notes.md").write_text("Day first.\n")
    (folder / "references" / "logo.png").write_bytes(b"\x89PNG\x00\x00binary")
    assert read_skill_files(folder) == {"SKILL.md": SKILL, "references/notes.md": "Day first.\n"}
    edited = apply_edits(pack(read_skill_files(folder)), [Edit("replace", "Month first.", target="Day first.",
                                                              file="references/notes.md")])
    assert unpack(edited.text)["references/notes.md"] == "Month first.\n" and unpack(edited.text)["SKILL.md"] == SKILL


def test_the_target_sees_a_reference_file_only_when_the_skill_points_to_it() -> None:
    notes = "Numeric dates written with slashes give the day first, then the month, then the year.\n"
    base = "# Dates\n\nWrite the result as YYYY-MM-DD with two digits for month and day.\n"
    hidden = pack({"SKILL.md": base, "references/notes.md": notes})
    pointed = pack({"SKILL.md": base + "How numeric dates are ordered: see references/notes.md.\n", "references/notes.md": notes})
    task = "Invoice dated 03/04/2024."
    system = rollout_messages(hidden, task)[0]["content"]
    assert "- references/notes.md" in system and "day first" not in system
    assert _target(rollout_messages(hidden, task), None, {}).text == "2024-03-04"
    assert "<file path=\"references/notes.md\">" in rollout_messages(pointed, task)[0]["content"]
    assert _target(rollout_messages(pointed, task), None, {}).text == "2024-04-03"


def _notes_optimizer(messages: list[dict], tools: object, params: dict) -> OfflineReply:
    """An optimizer that moves the ordering rule into the skill's reference file and points SKILL.md at it."""
    if REFLECT_MARK not in messages[0]["content"] or "give the day first" in messages[-1]["content"]:
        return OfflineReply(text='{"edits": []}')
    return OfflineReply(text=json.dumps({"edits": [
        {"op": "append", "file": "references/notes.md",
         "text": "Numeric dates written with slashes give the day first, then the month, then the year. Always write "
                 "the month and the day with two digits, adding a leading zero when needed."},
        {"op": "append", "text": "How numeric dates are ordered: see references/notes.md."},
    ]}))


async def test_a_references_file_is_edited_versioned_adopted_and_reverted(trainer_project: TrainerProject) -> None:
    folder = trainer_project.entry.folder
    (folder / "references").mkdir()
    (folder / "references" / "notes.md").write_text("# Notes on date formats\n")
    store = trainer_project.project.store
    for rel in ("SKILL.md", "references/notes.md"):
        store.write(f"skills/{DEMO}/{rel}", (folder / rel).read_text(), USER, message="user: copy")
    before = {rel: store.path(f"skills/{DEMO}/{rel}").read_bytes() for rel in ("SKILL.md", "references/notes.md")}
    register_offline_model("notes-optimizer", _notes_optimizer)
    prepared = trainer_project.start(trainer_project.config(optimizer="offline/notes-optimizer"))
    summary = await prepared.trainer.run(NO_ESTIMATE)
    assert summary["accepted_steps"] == [1]
    best = load_proposal(prepared.run.path)["best"]["version"]
    files = version_files(prepared.run.path, best)
    assert "give the day first" in files["references/notes.md"] and "see references/notes.md" in files["SKILL.md"]
    assert (prepared.run.path / "skills" / f"v{best:04d}" / "references" / "notes.md").exists()
    assert {rel: store.path(f"skills/{DEMO}/{rel}").read_bytes() for rel in before} == before
    result = adopt(store, prepared.run.path)
    assert sorted(store.files_of(result.commit)) == [f"skills/{DEMO}/SKILL.md", f"skills/{DEMO}/references/notes.md"]
    store.revert(result.commit)
    assert {rel: store.path(f"skills/{DEMO}/{rel}").read_bytes() for rel in before} == before


async def test_train_and_adopt_keep_the_hand_written_rules_byte_identical(trainer_project: TrainerProject) -> None:
    live = (trainer_project.entry.folder / "SKILL.md").read_text()
    store = trainer_project.project.store
    store.write(skill_relpath(DEMO), live, USER, message="user: copy")
    prepared = trainer_project.start(trainer_project.config(epochs=2))
    await prepared.trainer.run(NO_ESTIMATE)
    adopt(store, prepared.run.path, "final")
    text = store.read(skill_relpath(DEMO)).text
    assert text != live and text.startswith(live) and strip_managed_region(text) == live


def test_runs_show_lists_the_versions_files(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mimo_tui.skills import app_skills_dir

    shipped = app_skills_dir() / DEMO
    skill = project_dir / ".mimo" / "skills" / "date-notes"
    (skill / "references").mkdir(parents=True)
    (skill / "eval").mkdir()
    for name in ("train", "val", "test"):
        rows = (shipped / "eval" / f"{name}.jsonl").read_text().splitlines()[:8]
        (skill / "eval" / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
    (skill / "eval" / "date_checks.py").write_text((shipped / "eval" / "date_checks.py").read_text())
    (skill / "SKILL.md").write_text((shipped / "SKILL.md").read_text().replace(f"name: {DEMO}", "name: date-notes", 1))
    (skill / "references" / "notes.md").write_text("# Notes on date formats\n\nEuropean invoices write the day first.\n")
    assert main(["skill", "train", "date-notes", "--epochs", "1"]) == 0
    run = next((project_dir / ".mimo" / "runs").iterdir()).name
    capsys.readouterr()
    assert main(["skill", "runs", "--show", run]) == 0
    out = capsys.readouterr().out
    assert "references/notes.md" in out and "SKILL.md" in out and "diff against the live skill" in out
