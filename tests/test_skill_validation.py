"""Skills are validated before they run: the front-matter name matches the folder, and front matter is valid YAML
(issue 19, item 10)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mimo_tui.skills import FrontMatterError, load_catalogue, parse_skill_file
from mimo_tui.skills.catalogue import app_skills_dir


def mimo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mimo_tui", *args], cwd=cwd, capture_output=True, text=True,
                          env=os.environ.copy(), timeout=180)


def copy_shipped_skill(project: Path, folder: str, front_matter: str) -> Path:
    """The shipped date-normalizer skill (with its eval set) as a project skill in `folder`, with new front matter."""
    target = project / ".mimo" / "skills" / folder
    shutil.copytree(app_skills_dir() / "date-normalizer", target)
    body = parse_skill_file((target / "SKILL.md").read_text()).body
    (target / "SKILL.md").write_text(f"---\n{front_matter}---\n{body}")
    return target / "SKILL.md"


def test_eval_and_train_refuse_a_skill_whose_name_differs_from_its_folder(git_project: Path) -> None:
    assert mimo(git_project, "memory", "log").returncode == 0
    path = copy_shipped_skill(git_project, "dates", "name: date-normalizer\ndescription: Dates in one form.\n")
    for argv in (["skill", "eval", "dates"], ["skill", "train", "dates", "--max-calls", "2"]):
        out = mimo(git_project, *argv)
        assert out.returncode == 2, out.stdout + out.stderr
        assert str(path) in out.stderr and "'date-normalizer'" in out.stderr and "'dates'" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
    assert not (git_project / ".mimo" / "runs").exists() or not any((git_project / ".mimo" / "runs").iterdir())


BAD_FRONT_MATTER = {
    "a line that is not key: value": ("name: dates\nthis line is prose\ndescription: x\n", 3),
    "an unclosed quote": ('name: dates\ndescription: "Dates in one form.\n', 3),
    "a tab for indentation": ("name: dates\ndescription: >\n\tDates in one form.\n", 4),
    "bad indentation": ("name: dates\n  description: Dates in one form.\n", 3),
    "a key given twice": ("name: dates\nname: other\ndescription: x\n", 3),
    "a colon inside a plain value": ("name: dates\ndescription: Use when: dates differ\n", 3),
}


@pytest.mark.parametrize("case", sorted(BAD_FRONT_MATTER))
def test_front_matter_that_is_not_valid_yaml_is_refused_with_file_and_line(tmp_path: Path, case: str) -> None:
    block, line = BAD_FRONT_MATTER[case]
    with pytest.raises(FrontMatterError, match=f"^line {line}:"):
        parse_skill_file(f"---\n{block}---\nBody.\n")
    (tmp_path / "dates").mkdir()
    (tmp_path / "dates" / "SKILL.md").write_text(f"---\n{block}---\nBody.\n")
    catalogue = load_catalogue([("project", tmp_path)])
    assert catalogue.names() == []
    assert [str(p) for p in catalogue.problems][0].startswith(f"{tmp_path / 'dates' / 'SKILL.md'}: malformed front matter: line {line}:")


def test_skill_eval_refuses_front_matter_that_is_not_yaml(git_project: Path) -> None:
    assert mimo(git_project, "memory", "log").returncode == 0
    path = copy_shipped_skill(git_project, "dates", 'name: dates\ndescription: "Dates in one form.\n')
    out = mimo(git_project, "skill", "eval", "dates")
    assert out.returncode == 2 and str(path) in out.stderr and "line 3" in out.stderr and "YAML" in out.stderr, out.stderr


def test_valid_yaml_front_matter_still_reads() -> None:
    text = ("---\nname: write-tests\ndescription: >\n  How to write\n  good tests.\nlicense: 'MIT'\n"
            "allowed-tools: [read_file, grep]\nmetadata:\n  version: 2\n# a comment\n---\n# Body\n")
    fields = parse_skill_file(text).fields
    assert fields["name"] == "write-tests" and fields["description"].strip() == "How to write good tests."
    assert fields["license"] == "MIT" and fields["allowed-tools"] == '["read_file", "grep"]'
    assert parse_skill_file((app_skills_dir() / "date-normalizer" / "SKILL.md").read_text()).fields["name"] == "date-normalizer"
