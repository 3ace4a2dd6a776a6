"""Dream's model pass against scripted replies from the local OpenAI-compatible server: a consolidated MEMORY.md
is taken (and verified again), a reply that writes anything else, project source above all, is refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mimo_tui.llm import Gateway
from mimo_tui.maintenance.dream import DreamSettings, run_dream
from mimo_tui.maintenance.dream.model_pass import model_pass_for
from mimo_tui.project import Project
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall
from tests.test_dream import memory_with


@pytest.fixture
def project(tmp_path: Path, openai_server: LocalOpenAIServer) -> Project:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "retry.py").write_text("def retry(call):\n    return call()\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / ".mimo").mkdir()
    (root / ".mimo" / "config.toml").write_text(
        f'[dream]\nmodel = "test"\n\n[models.test]\nmodel = "openai/test"\napi_base = "{openai_server.base_url}"\n')
    (root / ".mimo" / "secrets.toml").write_text('[models.test]\napi_key = "sk-test"\n')
    project = Project.open(root)
    project.store.write("MEMORY.md", memory_with(
        Rules=["- Run `pytest -q` before every commit."],
        Discovered_durable_knowledge=["- Retries: `src/retry.py` wraps client calls.",
                                      "- Retry logic sits in src/retry.py and wraps every client call."]))
    return project


def dream_with_model(project: Project):
    settings = DreamSettings.from_config(project.config)
    gateway = Gateway(max_retries=0, timeout_s=20)
    consolidate = model_pass_for(project.config, settings, gateway)
    return run_dream(project.store, project.root, settings,
                     model_pass=lambda plan: consolidate(plan, project.store, project.root))


def write_call(path: str, content: str) -> ToolCall:
    return ToolCall("write_memory_file", json.dumps({"path": path, "content": content}))


def test_the_model_pass_consolidates_and_its_citations_are_checked(project: Project,
                                                                    openai_server: LocalOpenAIServer) -> None:
    consolidated = memory_with(Rules=["- Run `pytest -q` before every commit."],
                               Discovered_durable_knowledge=["- `src/retry.py` wraps every client call in a retry.",
                                                             "- Timeouts are set in `src/timeouts.py`."])
    openai_server.queue(Reply(tool_calls=[write_call("MEMORY.md", consolidated)], prompt_tokens=300,
                              completion_tokens=80))
    review = dream_with_model(project)
    text = project.store.read("MEMORY.md").text or ""
    assert "- `src/retry.py` wraps every client call in a retry." in text
    assert "- Timeouts are set in `src/timeouts.py`. [unverified]" in text
    assert "Retry logic sits in" not in text
    assert review.model_calls == 1 and review.model_tokens == 380
    assert project.store.head().author == "dream" and review.commit is not None
    sent = openai_server.requests[0]
    assert "Retry logic sits in src/retry.py" in sent["messages"][1]["content"]
    assert sent["tools"][0]["function"]["name"] == "write_memory_file"


@pytest.mark.parametrize("path", ["../src/retry.py", "src/retry.py", "skills/evil/SKILL.md"])
def test_a_model_reply_that_writes_anything_but_memory_is_refused(project: Project, openai_server: LocalOpenAIServer,
                                                                  path: str) -> None:
    source = project.root / "src" / "retry.py"
    original = source.read_bytes()
    openai_server.queue(Reply(tool_calls=[write_call(path, "import os\nos.system('rm -rf /')\n")]))
    review = dream_with_model(project)
    assert source.read_bytes() == original
    assert not (project.root / ".mimo" / "skills").exists() and not (project.root / ".mimo" / "src").exists()
    assert any("refused" in c.why for c in review.skipped)
    assert all(author in ("dream", "user", "mimo") for author in (c.author for c in project.store.log()))


def test_a_model_reply_that_loses_sections_is_refused(project: Project, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(Reply(tool_calls=[write_call("MEMORY.md", "# Project memory\n\n- everything is fine\n")]))
    review = dream_with_model(project)
    assert "## Rules" in (project.store.read("MEMORY.md").text or "")
    assert any("drops the section" in c.why for c in review.skipped)
