"""One file policy for every tool: the project boundary after symlinks, secret files ask, git data never written,
mimo's config files masked for the model; checked per tool and for every registered tool (and an MCP tool)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mimo_tui.agent import events as ev
from mimo_tui.agent.tools.base import ToolContext
from mimo_tui.agent.tools.files import EditFile, Glob, ListDir, ReadFile, WriteFile
from mimo_tui.agent.tools.registry import default_tools
from mimo_tui.agent.tools.search import Grep
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.mcp_agent import allow_rule, mcp_server_config
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

ENV_VALUE = "zq-env-secret-123"
OUTSIDE_VALUE = "zq-outside-456"
CONFIG_KEY = "sk-zq-config-key-7777"
SECRETS_FILE_KEY = "sk-zq-secrets-file-8888"


@dataclass
class PolicyProject:
    """A project holding a .env, symlinks to a file and a folder outside it, a config key and a secrets.toml."""

    agent: AgentProject
    outside: Path

    @property
    def root(self) -> Path:
        return self.agent.root

    def config(self, base_url: str, extra: str = "") -> None:
        self.agent.write_config(
            f'[model]\ndefault = "test"\n\n[models.test]\nmodel = "openai/test"\napi_base = "{base_url}"\n'
            f'api_key = "{CONFIG_KEY}"\n\n[llm]\nmax_retries = 2\n' + extra
        )
        with (self.root / ".mimo" / "secrets.toml").open("a", encoding="utf-8") as secrets:
            secrets.write(f'[keys]\nopenai = "{SECRETS_FILE_KEY}"\n')

    def ctx(self) -> ToolContext:
        return ToolContext(project_root=self.root, session_id="s1")


@pytest.fixture
def policy_project(agent_project: AgentProject, tmp_path: Path) -> PolicyProject:
    root = agent_project.root
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"OUTSIDE_SECRET={OUTSIDE_VALUE}\n", encoding="utf-8")
    (root / ".env").write_text(f"SECRET_TOKEN={ENV_VALUE}\n", encoding="utf-8")
    (root / "notes.md").write_text("OUTSIDE_SECRET is set by the deploy script\nSECRET_TOKEN comes from .env\n", encoding="utf-8")
    (root / "outlink.txt").symlink_to(outside / "secret.txt")
    (root / "outdir").symlink_to(outside)
    (root / "alias.txt").symlink_to(root / ".env")  # a harmless name for a secret file
    project = PolicyProject(agent_project, outside)
    project.config("http://127.0.0.1:9/v1")
    return project


# -- grep -------------------------------------------------------------------------------------------------------
async def test_grep_leaves_out_secret_files_and_says_how_to_include_them(policy_project: PolicyProject) -> None:
    result = await Grep().run({"pattern": "SECRET_TOKEN"}, policy_project.ctx())
    assert ENV_VALUE not in result.content and ENV_VALUE not in result.summary
    assert "notes.md:2: SECRET_TOKEN comes from .env" in result.content
    assert "3 files that may hold secrets (.env, alias.txt, .mimo/secrets.toml) were not searched" in result.content
    assert "grep with path set to it" in result.content


async def test_grep_does_not_follow_a_symlink_out_of_the_project(policy_project: PolicyProject) -> None:
    result = await Grep().run({"pattern": "OUTSIDE_SECRET"}, policy_project.ctx())
    assert OUTSIDE_VALUE not in result.content
    assert result.content.splitlines()[0] == "notes.md:1: OUTSIDE_SECRET is set by the deploy script"
    assert "symlink(s) to files outside the project (outlink.txt) not followed" in result.content


async def test_grep_names_a_single_file_and_masks_config_values(policy_project: PolicyProject) -> None:
    ctx = policy_project.ctx()
    one = await Grep().run({"pattern": "api", "path": ".mimo/config.toml"}, ctx)
    assert one.content.splitlines() == ['.mimo/config.toml:6: api_base = "http://127.0.0.1:9/v1"',
                                        '.mimo/config.toml:7: api_key = "sk-…(masked)"']
    everywhere = await Grep().run({"pattern": "sk-zq"}, ctx)
    assert CONFIG_KEY not in everywhere.content and SECRETS_FILE_KEY not in everywhere.content


async def test_grep_on_a_named_secret_file_asks(policy_project: PolicyProject, openai_server: LocalOpenAIServer) -> None:
    policy_project.config(openai_server.base_url)
    openai_server.queue(Reply(tool_calls=[ToolCall("grep", json.dumps({"pattern": "TOKEN", "path": "./.env"})),
                                          ToolCall("grep", json.dumps({"pattern": "TOKEN", "path": "alias.txt"}))]),
                        Reply(text="ok"))
    events = RecordedEvents(answers=["reject", "reject"])
    agent = policy_project.agent.open(events)
    await agent.run_turn("grep the env")
    assert [e.subject for e in events.of(ev.PermissionRequest)] == [".env", ".env"]
    assert [e.status for e in events.of(ev.ToolCallFinished)] == ["denied", "denied"]


# -- other file tools --------------------------------------------------------------------------------------------
async def test_read_file_masks_config_secrets_and_asks_for_secrets_toml(policy_project: PolicyProject,
                                                                        openai_server: LocalOpenAIServer) -> None:
    policy_project.config(openai_server.base_url)
    shown = await ReadFile().run({"path": ".mimo/config.toml"}, policy_project.ctx())
    assert CONFIG_KEY not in shown.content and '7  api_key = "sk-…(masked)"' in shown.content
    openai_server.queue(Reply(tool_calls=[ToolCall("read_file", json.dumps({"path": ".mimo/secrets.toml"}))]), Reply(text="ok"))
    events = RecordedEvents(answers=["once"])
    agent = policy_project.agent.open(events)
    await agent.run_turn("read the secrets")
    assert [e.subject for e in events.of(ev.PermissionRequest)] == [".mimo/secrets.toml"]
    [finished] = events.of(ev.ToolCallFinished)
    assert finished.status == "ok" and SECRETS_FILE_KEY not in finished.content and 'openai = "sk-…(masked)"' in finished.content


async def test_writing_masked_values_back_into_a_config_is_refused(policy_project: PolicyProject) -> None:
    from mimo_tui.agent.paths import PathRefused

    ctx = policy_project.ctx()
    masked = (await ReadFile().run({"path": ".mimo/config.toml"}, ctx)).content
    text = "\n".join(line.split("  ", 1)[1] if "  " in line else "" for line in masked.splitlines())
    with pytest.raises(PathRefused, match="masked secret values"):
        await WriteFile().run({"path": ".mimo/config.toml", "content": text + "\n[ui]\n"}, ctx)
    assert CONFIG_KEY in (policy_project.root / ".mimo" / "config.toml").read_text()
    edited = await EditFile().run({"path": ".mimo/config.toml", "old_text": "max_retries = 2", "new_text": "max_retries = 3"}, ctx)
    assert CONFIG_KEY not in edited.content and "max_retries = 3" in (policy_project.root / ".mimo" / "config.toml").read_text()


async def test_list_dir_and_glob_do_not_read_through_a_symlink_out(policy_project: PolicyProject) -> None:
    from mimo_tui.agent.paths import PathRefused

    ctx = policy_project.ctx()
    with pytest.raises(PathRefused):
        await ListDir().run({"path": "outdir"}, ctx)
    found = await Glob().run({"pattern": "**/*.txt"}, ctx)
    assert "outdir/secret.txt" not in found.content and "outlink.txt" not in found.content
    assert "alias.txt" in found.content  # a name is not content: glob lists it, read_file asks for it


@pytest.mark.parametrize("target", [".git/config", ".mimo/.git/config", "src/../.git/hooks/pre-commit", "gitlink/config"])
async def test_write_tools_never_touch_git_data(policy_project: PolicyProject, openai_server: LocalOpenAIServer,
                                                target: str) -> None:
    root = policy_project.root
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "gitlink").symlink_to(root / ".git")
    policy_project.config(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[ToolCall("write_file", json.dumps({"path": target, "content": "[core]\n"})),
                          ToolCall("edit_file", json.dumps({"path": target, "old_text": "[core]", "new_text": "[x]"}))]),
        Reply(text="ok"),
    )
    events = RecordedEvents(answers=["once", "once"])
    agent = policy_project.agent.open(events)
    before, mimo_git = tree_digest(root / ".git"), tree_digest(root / ".mimo" / ".git")
    await agent.run_turn("break git")
    finished = events.of(ev.ToolCallFinished)
    assert [f.status for f in finished] == ["refused", "refused"], [f.content for f in finished]
    assert all("tools never write .git or .mimo/.git" in f.content for f in finished)
    assert not events.of(ev.PermissionRequest)  # refused before anyone is asked
    assert tree_digest(root / ".git") == before and tree_digest(root / ".mimo" / ".git") == mimo_git


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# -- memory tool ---------------------------------------------------------------------------------------------------
async def test_memory_tool_masks_config_and_withholds_secret_files(policy_project: PolicyProject,
                                                                   openai_server: LocalOpenAIServer) -> None:
    policy_project.config(openai_server.base_url)
    (policy_project.root / ".mimo" / "leak.md").symlink_to(policy_project.outside / "secret.txt")
    reads = ["config.toml", "secrets.toml", "leak.md", "../.env"]
    openai_server.queue(Reply(tool_calls=[ToolCall("memory", json.dumps({"op": "read", "path": p})) for p in reads]),
                        Reply(text="ok"))
    events = RecordedEvents()
    agent = policy_project.agent.open(events)
    await agent.run_turn("read memory files")
    config, secrets, leak, env = [f.content for f in events.of(ev.ToolCallFinished)]
    assert 'api_key = "sk-…(masked)"' in config and CONFIG_KEY not in config
    assert SECRETS_FILE_KEY not in secrets and "may hold secrets" in secrets and "read_file" in secrets
    assert OUTSIDE_VALUE not in leak and "outside the project" in leak
    assert ENV_VALUE not in env


# -- MCP resources -------------------------------------------------------------------------------------------------
async def test_mcp_file_resources_follow_the_file_policy(policy_project: PolicyProject, openai_server: LocalOpenAIServer,
                                                        process_tag: str) -> None:
    policy_project.config(openai_server.base_url, mcp_server_config("demo", "demo_server.py", "stdio", process_tag)
                          + allow_rule("mcp__demo__file_resource"))
    paths = ["notes.md", "outlink.txt", ".env", ".mimo/config.toml"]
    openai_server.queue(
        Reply(tool_calls=[ToolCall("mcp__demo__file_resource", json.dumps({"path": p})) for p in paths]), Reply(text="ok"))
    events = RecordedEvents()
    agent = policy_project.agent.open(events)
    servers = policy_project.agent.services.mcp
    servers.start_all()
    await servers.wait_started(timeout=20)
    try:
        await agent.run_turn("read files through MCP")
    finally:
        await servers.stop_all()
    notes, outside, env, config = [f.content for f in events.of(ev.ToolCallFinished)]
    assert "OUTSIDE_SECRET is set by the deploy script" in notes
    assert OUTSIDE_VALUE not in outside and "outside the project" in outside
    assert ENV_VALUE not in env and "may hold secrets" in env
    assert CONFIG_KEY not in config and 'api_key = "sk-…(masked)"' in config


# -- every tool ----------------------------------------------------------------------------------------------------
# Tools that take no file path: bash runs commands, judged part by part by the shell permission rules.
NOT_FILE_TOOLS = {"bash": "runs shell commands; asks unless a rule allows the command"}
PROBES = (".", ".env", "alias.txt", "outlink.txt", "outdir", "outdir/secret.txt", "../outside/secret.txt",
          ".mimo/config.toml", "config.toml", ".mimo/secrets.toml", "secrets.toml", "**/*", "SECRET|OUTSIDE|sk-zq",
          ".git/config", ".mimo/.git/config")


def probe_calls(parameters: dict[str, Any], outside: Path) -> Iterator[dict[str, Any]]:
    """Argument sets that aim every string parameter of a tool at each probe path (and every enum value)."""
    properties: dict[str, Any] = parameters.get("properties", {})
    enums = {k: v["enum"] for k, v in properties.items() if "enum" in v}
    strings = [k for k, v in properties.items() if v.get("type") == "string" and "enum" not in v]
    base = {k: 1 if properties[k].get("type") == "integer" else "." for k in parameters.get("required", []) if k not in enums}
    probes = (*PROBES, str(outside / "secret.txt"))
    calls = []
    for combo in itertools.product(*enums.values()) if enums else [()]:
        fixed = {**base, **dict(zip(enums, combo))}
        calls += [{**fixed, **{k: value for k in strings}} for value in probes]
    if len(strings) > 1:  # each parameter alone too, the others left at their defaults
        first = {**base, **{k: v[0] for k, v in enums.items()}}
        calls += [{**first, key: value} for key in strings for value in probes]
    yield from {json.dumps(call, sort_keys=True): call for call in calls}.values()


def leaks(text: str, consent: bool) -> list[str]:
    secrets = [OUTSIDE_VALUE, CONFIG_KEY, SECRETS_FILE_KEY] + ([] if consent else [ENV_VALUE])
    return [s for s in secrets if s in text]


@pytest.mark.parametrize("consent", [False, True], ids=["asks-rejected", "asks-allowed"])
async def test_every_tool_keeps_to_the_file_policy(policy_project: PolicyProject, openai_server: LocalOpenAIServer,
                                                   process_tag: str, consent: bool) -> None:
    """Every registered tool (and an MCP tool), each string parameter aimed at a .env, a symlink out, a config key.

    Without consent no result shows the .env value; with consent (`--yes`) none shows a file outside the project
    or a config secret; git data is never written. A new tool that takes a path without the policy fails here.
    """
    root = policy_project.root
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    policy_project.config(openai_server.base_url, mcp_server_config("demo", "demo_server.py", "stdio", process_tag)
                          + allow_rule("mcp__demo__file_resource"))
    tools = {name: tool for name, tool in default_tools().items() if name not in NOT_FILE_TOOLS}
    calls = []
    for name, tool in [*tools.items(), ("mcp__demo__file_resource", None)]:
        parameters = tool.spec.parameters if tool else {"properties": {"path": {"type": "string"}}, "required": ["path"]}
        calls += [ToolCall(name, json.dumps(args), id=f"c{name}{n}") for n, args in enumerate(probe_calls(parameters, policy_project.outside))]
    openai_server.queue(Reply(tool_calls=calls, chunk_size=4096), Reply(text="done"))
    answers = ["once" if consent else "reject"] * 10_000
    events = RecordedEvents(answers=answers)
    agent = policy_project.agent.open(events)
    git_before = tree_digest(root / ".git")
    mimo_git_config = (root / ".mimo" / ".git" / "config").read_bytes()
    servers = policy_project.agent.services.mcp
    servers.start_all()
    await servers.wait_started(timeout=20)
    try:
        assert await agent.run_turn("probe every tool") == ev.TURN_DONE
    finally:
        await servers.stop_all()
    finished = events.of(ev.ToolCallFinished)
    assert {f.tool for f in finished} == {*tools, "mcp__demo__file_resource"}
    started = {e.call_id: e.arguments for e in events.of(ev.ToolCallStarted)}
    leaked = [(f.tool, started[f.call_id], found) for f in finished for found in [leaks(f.content + f.summary, consent)] if found]
    assert leaked == []
    # The probes reach real content: the .env value shows once the user agreed (read_file .env), never before.
    assert any(ENV_VALUE in f.content for f in finished) == consent
    assert any("OUTSIDE_SECRET is set by the deploy script" in f.content for f in finished)
    assert tree_digest(root / ".git") == git_before
    assert (root / ".mimo" / ".git" / "config").read_bytes() == mimo_git_config
    assert (policy_project.outside / "secret.txt").read_text() == f"OUTSIDE_SECRET={OUTSIDE_VALUE}\n"


# -- end to end --------------------------------------------------------------------------------------------------
def mimo_json(cwd: Path, *args: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run([sys.executable, "-m", "mimo_tui", "run", "--json", *args], cwd=cwd, capture_output=True,
                          text=True, env=os.environ.copy(), timeout=120)
    record = json.loads(done.stdout.strip().splitlines()[-1])
    return record, done.stdout + done.stderr


def test_headless_search_shows_neither_env_values_nor_files_outside(policy_project: PolicyProject) -> None:
    root = policy_project.root
    policy_project.agent.write_config("")  # the offline model
    record, output = mimo_json(root, "search SECRET_TOKEN")
    assert [c["tool"] for c in record["tool_calls"]] == ["grep"]
    assert ENV_VALUE not in output and "notes.md" in record["text"]
    assert "may hold secrets (.env, alias.txt, .mimo/secrets.toml) were not searched" in record["tool_calls"][0]["result"]
    record, output = mimo_json(root, "--yes", "search OUTSIDE_SECRET")
    assert [c["tool"] for c in record["tool_calls"]] == ["grep"] and "notes.md" in record["text"]
    assert OUTSIDE_VALUE not in output
