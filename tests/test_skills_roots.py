"""The agent and the trainer find skills in the same roots and judge them by the same rules."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.skillopt.catalogue import find_skills
from mimo_tui.skills import load_catalogue, skill_roots
from mimo_tui.workspace import user_config_dir


def write_skill(root: Path, folder: str, name: str, description: str = "Does a thing; use it when asked.") -> None:
    (root / folder).mkdir(parents=True)
    (root / folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n---\nBody.\n")


def test_user_and_peer_skills_are_seen_by_agent_and_trainer(tmp_path: Path) -> None:
    write_skill(user_config_dir() / "skills", "tidy-imports", "tidy-imports")
    write_skill(tmp_path / ".claude" / "skills", "release-notes", "release-notes")
    write_skill(tmp_path / ".mimo" / "skills", "bad-name", "Other_Name")
    agent = load_catalogue(skill_roots(tmp_path, user_config_dir() / "skills", extra_roots=True))
    trainer = {entry.name: entry for entry in find_skills(tmp_path, tmp_path / ".mimo")}
    assert set(agent.names()) == {n for n, e in trainer.items() if not e.problems} >= {"tidy-imports", "release-notes"}
    assert trainer["tidy-imports"].origin == "user" and trainer["release-notes"].origin == ".claude/skills"
    assert [p.message for p in agent.problems] == list(trainer["bad-name"].problems)
