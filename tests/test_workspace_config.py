"""Where a project's data lives, and how config files merge and report errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mimo_tui.config import describe, load_config, user_config_path
from mimo_tui.workspace import find_project_root


def test_subfolder_of_a_repo_shares_the_repo_root(git_project: Path) -> None:
    sub = git_project / "src" / "deep"
    sub.mkdir(parents=True)
    assert find_project_root(sub) == git_project.resolve()


def test_nearest_mimo_folder_wins(git_project: Path) -> None:
    inner = git_project / "pkg"
    (inner / ".mimo").mkdir(parents=True)
    assert find_project_root(inner / ".mimo") == inner.resolve()
    subprocess.run(["git", "init", "-q"], cwd=inner / ".mimo", check=True)  # the memory repo is a git repo too
    (inner / ".mimo" / "sessions").mkdir()
    assert find_project_root(inner / ".mimo" / "sessions") == inner.resolve()


def test_folders_outside_git_do_not_share_memory(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    if subprocess.run(["git", "rev-parse"], cwd=a, capture_output=True).returncode == 0:
        return  # the temp dir itself sits in a git repo on this machine; nothing to compare
    assert find_project_root(a) == a.resolve() and find_project_root(b) == b.resolve()


def test_project_config_wins_over_user_config(tmp_path: Path) -> None:
    user = user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text('[model]\ndefault = "openai/gpt-4o"\ncontext_window = 64000\n')
    project = tmp_path / "config.toml"
    project.write_text('[model]\ndefault = "ollama/llama3"\n')
    config = load_config(project)
    assert config.get("model.default") == "ollama/llama3"
    assert config.get("model.context_window") == 64000
    assert config.sources["model.default"] == str(project)
    assert config.sources["model.context_window"] == str(user)
    assert 'model.default = "ollama/llama3"  # ' + str(project) in describe(config)


def test_wrong_type_is_reported_with_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "mimo-light"\n\n[llm]\nmax_concurrency = "lots"\n')
    config = load_config(path)
    assert config.get("llm.max_concurrency") == 8
    assert config.get("ui.theme") == "mimo-light"
    (problem,) = config.problems
    assert problem.line == 5 and problem.key == "llm.max_concurrency"
    assert str(path) in str(problem) and "line 5" in str(problem)


def test_broken_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "x"\nthis is [[[ not toml\n')
    config = load_config(path)
    (problem,) = config.problems
    assert problem.line == 3 and "not valid TOML" in str(problem)
    assert config.get("ui.theme") == "mimo-dark"


def test_unknown_keys_are_reported_and_free_tables_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[keymap]\n"memory.save" = "ctrl+w"\n\n[ui]\nthem = "typo"\n')
    config = load_config(path)
    assert config.table("keymap") == {"memory.save": "ctrl+w"}
    assert [p.key for p in config.problems] == ["ui.them"]


def test_a_stray_mimo_folder_above_a_git_repo_does_not_capture_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MIMO_CEILING_DIRECTORIES")
    (tmp_path / ".mimo").mkdir()
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    assert find_project_root(repo / "src") == repo.resolve()


def test_the_search_never_enters_a_ceiling_folder(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".mimo").mkdir()
    plain = tmp_path / "plain" / "deep"
    plain.mkdir(parents=True)
    monkeypatch.setenv("MIMO_CEILING_DIRECTORIES", str(tmp_path))
    assert find_project_root(plain) == plain.resolve()
    monkeypatch.delenv("MIMO_CEILING_DIRECTORIES")
    assert find_project_root(plain) == tmp_path.resolve()
