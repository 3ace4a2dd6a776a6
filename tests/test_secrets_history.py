"""No literal secret reaches the memory repo's history, and `mimo config` never prints one (issue 19, item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mimo_tui.config import load_config
from mimo_tui.llm.models import resolve_model
from mimo_tui.project import Project
from mimo_tui.secrets import is_secret_key as is_secret_name, literal_secrets, masked
from mimo_tui.store import repair_memory_repo
from mimo_tui.store.secret_guard import SecretRefused
from mimo_tui.store.watcher import watch_external_edits

KEY = "sk-zq-literal-key-9876"
CONFIG_WITH_KEY = f'[models."openai/zq-model"]\napi_base = "http://127.0.0.1:9/v1"\napi_key = "{KEY}"\n'


def history(mimo_dir: Path) -> str:
    """Every patch of every commit of the memory repo."""
    return subprocess.run(["git", f"--git-dir={mimo_dir / '.git'}", "log", "-p", "--all"],
                          capture_output=True, text=True, errors="replace", check=True).stdout


def committed(mimo_dir: Path, rel: str) -> str | None:
    proc = subprocess.run(["git", f"--git-dir={mimo_dir / '.git'}", "show", f"HEAD:{rel}"], capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else None


def mimo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mimo_tui", *args], cwd=cwd, capture_output=True, text=True,
                          env=os.environ.copy(), timeout=60)


@pytest.fixture
def project_with_key(git_project: Path) -> Path:
    """A project whose `.mimo/config.toml` holds a literal key before the memory repo exists."""
    (git_project / ".mimo").mkdir()
    (git_project / ".mimo" / "config.toml").write_text(CONFIG_WITH_KEY)
    return git_project


def test_repo_created_over_a_config_with_a_literal_key_leaves_the_config_uncommitted(project_with_key: Path) -> None:
    project = Project.open(project_with_key)
    mimo_dir = project.workspace.mimo_dir
    assert KEY not in history(mimo_dir)
    assert committed(mimo_dir, "MEMORY.md") is not None  # the rest of the repo was created and committed
    assert committed(mimo_dir, "config.toml") is None
    assert (mimo_dir / "config.toml").read_text() == CONFIG_WITH_KEY  # the user's file is untouched
    notes = " ".join(project.store.recovery_notes)
    assert "config.toml" in notes and "env:NAME" in notes and "secrets.toml" in notes
    # The key still works: it is only kept out of history.
    assert resolve_model("openai/zq-model", project.config.table("models")).api_key == KEY


def test_the_write_path_refuses_a_literal_key_and_says_where_it_goes(memory_project: Project) -> None:
    store = memory_project.store
    before = store.head().sha
    with pytest.raises(SecretRefused) as refused:
        store.write("config.toml", CONFIG_WITH_KEY)
    message = str(refused.value)
    assert "config.toml" in message and "api_key" in message
    assert "env:NAME" in message and "secrets.toml" in message and "config.toml" in message.split("user config")[1]
    assert KEY not in message
    assert not (store.root / "config.toml").exists() and store.head().sha == before
    # A reference to the environment is no secret: it is committed.
    reference = '[models."openai/zq-model"]\napi_key = "env:ZQ_KEY"\n'
    assert store.write("config.toml", reference) is not None
    assert committed(store.root, "config.toml") == reference
    with pytest.raises(SecretRefused):
        store.write("secrets.toml", '[models."x/y"]\napi_key = "env:ZQ"\n')  # the secrets file is never committed


def test_external_edit_commits_other_files_but_not_a_literal_key(memory_project: Project) -> None:
    store = memory_project.store
    (store.root / "MEMORY.md").write_text((store.root / "MEMORY.md").read_text() + "- zq-outside fact\n")
    (store.root / "config.toml").write_text("[mcp.servers.gh]\ncommand = \"gh-mcp\"\n[mcp.servers.gh.env]\n"
                                            "GITHUB_TOKEN = \"ghp_zqliteral\"\n")
    told: list[str] = []
    events = store.commit_external(told.append)
    assert [event.relpath for event in events] == ["MEMORY.md"]
    assert "zq-outside fact" in committed(store.root, "MEMORY.md")
    assert "ghp_zqliteral" not in history(store.root) and committed(store.root, "config.toml") is None
    assert len(told) == 1 and "GITHUB_TOKEN" in told[0] and "ghp_zqliteral" not in told[0]
    # Once the key is moved out, the config is committed like any edit.
    (store.root / "config.toml").write_text('[mcp.servers.gh]\ncommand = "gh-mcp"\n[mcp.servers.gh.env]\n'
                                            'GITHUB_TOKEN = "${GITHUB_TOKEN}"\n')
    assert [event.relpath for event in store.commit_external(told.append)] == ["config.toml"]


def test_the_watcher_commits_a_memory_edit_but_not_a_key_added_to_config(memory_project: Project) -> None:
    """The acceptance scenario with the real watcher (watchfiles) and real file changes."""
    store = memory_project.store
    (store.root / "config.toml").write_text('[models."openai/zq-model"]\napi_base = "http://127.0.0.1:9/v1"\n')
    store.commit_external()
    stop = threading.Event()
    errors: list[str] = []
    thread = threading.Thread(target=watch_external_edits, args=(store, stop, errors.append), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # the watcher is watching
        with (store.root / "MEMORY.md").open("a") as handle:
            handle.write("- zq-external-edit fact\n")
        deadline = time.monotonic() + 10
        while "zq-external-edit" not in (committed(store.root, "MEMORY.md") or "") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "zq-external-edit" in committed(store.root, "MEMORY.md")
        with (store.root / "config.toml").open("a") as handle:
            handle.write('\n[models."anthropic/zq-other"]\napi_key = "sk-ant-zq-watch-5555"\n')
        deadline = time.monotonic() + 10
        while not errors and time.monotonic() < deadline:
            time.sleep(0.1)
        with (store.root / "MEMORY.md").open("a") as handle:  # a later edit is still committed, the config still not
            handle.write("- zq-second fact\n")
        deadline = time.monotonic() + 10
        while "zq-second" not in (committed(store.root, "MEMORY.md") or "") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(10)
    assert "zq-second" in committed(store.root, "MEMORY.md")
    assert "sk-ant-zq-watch-5555" not in history(store.root)
    assert "sk-ant-zq-watch-5555" in (store.root / "config.toml").read_text()
    assert len(errors) == 1 and "config.toml" in errors[0] and "secrets.toml" in errors[0]  # told once, not per edit


def test_repair_does_not_commit_a_literal_key(memory_project: Project) -> None:
    root = memory_project.store.root
    (root / "config.toml").write_text(CONFIG_WITH_KEY)
    (root / ".git" / "HEAD").write_text("nonsense\n")
    repair_memory_repo(root)
    assert KEY not in history(root)
    assert committed(root, "MEMORY.md") is not None and (root / "config.toml").read_text() == CONFIG_WITH_KEY


def test_secrets_toml_is_merged_into_the_config_and_never_committed(memory_project: Project) -> None:
    root = memory_project.store.root
    (root / "config.toml").write_text('[models."openai/zq-model"]\napi_base = "http://127.0.0.1:9/v1"\n')
    (root / "secrets.toml").write_text(f'[models."openai/zq-model"]\napi_key = "{KEY}"\n')
    (root / ".gitignore").unlink()  # even without the .gitignore entry (info/exclude and the guard hold)
    memory_project.store.commit_external()
    config = load_config(root / "config.toml")
    spec = resolve_model("openai/zq-model", config.table("models"))
    assert spec.api_key == KEY and spec.api_base == "http://127.0.0.1:9/v1"
    assert committed(root, "config.toml") is not None and KEY not in history(root)
    assert "secrets.toml" not in subprocess.run(["git", f"--git-dir={root / '.git'}", "ls-files"], capture_output=True,
                                                text=True, check=True).stdout


def test_mimo_config_masks_secrets_but_shows_the_model_table(project_with_key: Path, isolated_home: Path) -> None:
    user_config = isolated_home / ".config" / "mimo" / "config.toml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text('[mcp.servers.gh]\nurl = "https://example.invalid/mcp"\n'
                           '[mcp.servers.gh.headers]\nAuthorization = "Bearer zq-user-bearer"\n')
    assert mimo(project_with_key, "memory", "log").returncode == 0
    out = mimo(project_with_key, "config")
    assert out.returncode == 0, out.stderr
    assert "zq-model" in out.stdout and "http://127.0.0.1:9/v1" in out.stdout and "(masked)" in out.stdout
    assert KEY not in out.stdout + out.stderr and "zq-user-bearer" not in out.stdout + out.stderr
    assert "secrets.toml" in out.stderr  # it says where the key belongs


def test_secret_names_and_references() -> None:
    for name in ("api_key", "OPENAI_API_KEY", "GITHUB_TOKEN", "client_secret", "x-api-key", "Authorization",
                 "accessToken", "password"):
        assert is_secret_name(name), name
    for name in ("tokenizer", "max_tokens", "model", "api_base", "hotkey", "context_window"):
        assert not is_secret_name(name), name
    data = {"models": {"a": {"api_key": "sk-1"}, "b": {"api_key": "env:B_KEY"}, "c": {"api_key": ""}},
            "keymap": {"token": "ctrl+t"}, "mcp": {"x": {"headers": {"Authorization": "Bearer ${TOKEN}"}}}}
    assert literal_secrets(data) == ["models.a.api_key"]
    shown = masked(data)
    assert "sk-1" not in str(shown) and shown["models"]["b"]["api_key"] == "env:B_KEY"
    assert shown["keymap"] == {"token": "ctrl+t"}
