"""Shell commands are judged as bash would run them: part by part, with writes and code-running parts asking."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from mimo_tui.agent import events as ev
from mimo_tui.agent.permissions import ALLOW, ASK, DENY, PermissionPolicy, PermissionRule, config_with_rule, exact_pattern, parse_rules
from mimo_tui.agent.shell_command import COMMAND, REDIRECT, SUBSTITUTION, parse_command
from mimo_tui.agent.tools.base import ToolContext
from mimo_tui.agent.tools.shell import Bash
from mimo_tui.cli import main
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

DEFAULTS = PermissionPolicy.from_config(None)

# command -> decision under the default rules (ls, pwd, git status, git diff, git log with any arguments; the rest asks)
DEFAULT_TABLE = [
    ("ls", ALLOW),
    ("ls -la src", ALLOW),
    ("lsof -i", ASK),  # a rule for ls is not a rule for every program whose name starts with ls
    ("git logx", ASK),
    ("pwd", ALLOW),
    ("ls && pwd", ALLOW),
    ("ls; ", ALLOW),
    ("ls\npwd", ALLOW),
    ("ls\ntouch x", ASK),
    ("ls 2>/dev/null", ALLOW),
    ("ls >/dev/null 2>&1", ALLOW),
    ("ls 2>&1", ALLOW),
    ("ls #; touch x", ALLOW),  # a comment: bash runs only ls
    ("ls \\; touch x", ALLOW),  # an escaped ; is an argument of ls
    ("ls ';touch x'", ALLOW),
    ("git status --porcelain", ALLOW),
    ("git status", ALLOW),
    ("git diff HEAD~1 -- src", ALLOW),
    ("git log -1 --oneline", ALLOW),
    ("git log -- --output=x", ALLOW),  # after --, a path, not an option
    # chains: each simple command must be allowed on its own
    ("ls; touch /outside/pwned", ASK),
    ("ls;touch x", ASK),
    ("ls && touch x", ASK),
    ("ls || touch x", ASK),
    ("ls & touch x", ASK),
    ("ls | wc -l", ASK),
    ("ls |& tee x", ASK),
    ("pwd; git status; rm -rf ~", ASK),
    ("(ls; touch x)", ASK),
    ("if ls; then touch x; fi", ASK),
    ("for f in a b; do ls $f; done", ALLOW),
    ("for f in $(id); do ls; done", ASK),
    ("while ls; do touch x; done", ASK),
    ("f() { touch x; }; ls", ASK),
    ("ls $'\\'' ; touch pwned ; echo \\'", ASK),  # ANSI-C quoting ends after \' : bash runs touch
    # substitutions run code
    ("ls $(rm -rf /)", ASK),
    ("ls `id`", ASK),
    ("ls \"$(id)\"", ASK),
    ("ls '$(id)'", ALLOW),  # single quotes: no substitution
    ("ls <(cat .env)", ASK),
    ("ls >(tee x)", ASK),
    ("ls ${x:-$(id)}", ASK),
    ("ls $(pwd)", ASK),  # even when the inner command is allowed, the substitution itself asks
    ("cat <<EOF\n$(id)\nEOF", ASK),
    # redirections that write
    ("ls > out.txt", ASK),
    ("ls >> out.txt", ASK),
    ("ls 2>err.txt", ASK),
    ("ls &> all.txt", ASK),
    ("ls >| out.txt", ASK),
    ("ls >&out.txt", ASK),
    ("(ls) > out.txt", ASK),
    ("ls > $(id)", ASK),
    # options that write or run code on allowed commands
    ("git log -1 --output=/outside/f", ASK),
    ("git log -1 --output /outside/f", ASK),
    ("git diff --output=x", ASK),
    ("git diff --ext-diff", ASK),
    ("git log -p --textconv", ASK),
    ("git -c core.pager=touch log", ASK),
    ("git -C /elsewhere status", ASK),
    ("git --git-dir=/elsewhere/.git log", ASK),
    ("git --exec-path=/tmp status", ASK),
    ("git --config-env=core.pager=X log", ASK),
    # arguments the shell decides at run time may turn into options
    ("for x in --output=/x; do git log -1 $x; done", ASK),
    ("git log -1${IFS}--output=/x", ASK),
    ("git log {--output=/x,-1}", ASK),
    ("git log --output{=/x,}", ASK),
    ("git log -1 -{-output=/x,1}", ASK),
    ("git diff *.py", ASK),  # a file named --output=x would become an option
    ("git diff -- *.py", ALLOW),
    ("git diff '*.py'", ALLOW),
    ("git diff HEAD -- $f", ALLOW),
    ("ls src/{a,b}.py", ALLOW),
    ("{ls,-la}", ASK),
    ("FOO=1 ls", ASK),
    ("GIT_EXTERNAL_DIFF=/tmp/x git diff", ASK),
    ("$CMD", ASK),
    # not allowed by any default rule
    ("touch x", ASK),
    ("rm -rf /", ASK),
    ("x=1", ASK),
    ("find . -name x", ASK),
    ("wc -l README.md", ASK),
    # cannot be parsed, or empty: ask
    ("echo $((1+2))", ASK),
    ("[[ -f x ]] && ls", ASK),
    ("case x in a) ls;; esac", ASK),
    ("time ls", ASK),
    ("ls &&", ASK),
    ("ls 'unterminated", ASK),
    ("", ASK),
    ("   ", ASK),
]


@pytest.mark.parametrize(("command", "expected"), DEFAULT_TABLE, ids=[repr(c) for c, _ in DEFAULT_TABLE])
def test_default_rules_judge_each_part(command: str, expected: str) -> None:
    assert DEFAULTS.decide("bash", command) == expected


USER_RULES = PermissionPolicy.from_config([
    {"tool": "bash", "pattern": "pytest*", "action": "allow"},
    {"tool": "bash", "pattern": "find*", "action": "allow"},
    {"tool": "bash", "pattern": "wc*", "action": "allow"},
    {"tool": "bash", "pattern": "cat *", "action": "allow"},
    {"tool": "bash", "pattern": "git *", "action": "allow"},
    {"tool": "bash", "pattern": "git push*", "action": "deny"},
    {"tool": "bash", "pattern": "sort*", "action": "allow"},
    {"tool": "bash", "pattern": "curl*", "action": "allow"},
    {"tool": "bash", "pattern": "python*", "action": "allow"},
    {"tool": "bash", "pattern": "bash *", "action": "allow"},
    {"tool": "bash", "pattern": "env*", "action": "allow"},
    {"tool": "bash", "pattern": "xargs*", "action": "allow"},
    {"tool": "bash", "pattern": "tee*", "action": "allow"},
    {"tool": "bash", "pattern": "sed*", "action": "allow"},
    {"tool": "bash", "pattern": "ls x.py", "action": "deny"},
    {"tool": "bash", "pattern": "find . -exec rm {} +", "action": "allow"},
    {"tool": "bash", "pattern": "ls [*].py > list.txt", "action": "allow"},
])

USER_TABLE = [
    ("pytest -x", ALLOW),
    ("pytest -x; rm -rf ~", ASK),
    ("pytest -x && ls", ALLOW),
    ("ls | wc -l", ALLOW),
    ("cat README.md | wc -l", ALLOW),
    ("find . -name '*.py'", ALLOW),
    ("find . -exec rm {} \\;", ASK),  # find is allowed, its -exec is not
    ("find . -execdir touch x \\;", ASK),
    ("find . -ok rm {} \\;", ASK),
    ("find . -delete", ASK),
    ("find . -fprint out.txt", ASK),
    ("find . -exec rm {} +", ALLOW),  # a rule names exactly this command
    ("ls && find . -exec rm {} +", ALLOW),  # ... and exactly this part
    ("find . -exec rm -rf {} +", ASK),
    ("find . -name '*.py' | xargs rm", ASK),
    ("git push origin main", DENY),
    ("ls; git push", DENY),  # a deny on any part denies
    ("ls $(git push)", DENY),
    ("ls x.py", DENY),
    ("git commit -m x", ALLOW),
    ("git -c core.pager=x log", ASK),
    ("git grep -Ovim x", ASK),
    ("git fetch --upload-pack=/tmp/x origin", ASK),
    ("git rebase -x 'make test' main", ASK),
    ("git clone --template=/tmp/t url", ASK),
    ("sort names.txt", ALLOW),
    ("sort -o names.txt names.txt", ASK),
    ("sort --output=names.txt names.txt", ASK),
    ("curl -s https://example.com", ALLOW),
    ("curl -sSLo out https://example.com", ASK),
    ("curl --output out https://example.com", ASK),
    ("curl -O https://example.com/x", ASK),
    ("python script.py", ALLOW),
    ("python -m pytest -c setup.cfg", ALLOW),
    ("python -c 'import os'", ASK),
    ("python3 -W ignore -c 'import os'", ASK),
    ("python3 -", ASK),
    ("python3", ASK),
    ("bash scripts/check.sh", ALLOW),
    ("bash -c 'rm -rf ~'", ASK),
    ("bash -o pipefail -c 'rm -rf ~'", ASK),
    ("bash -lc 'rm -rf ~'", ASK),
    ("env", ALLOW),
    ("env FOO=1 rm -rf ~", ASK),
    ("env -S 'rm -rf ~'", ASK),
    ("tee", ALLOW),
    ("cat x | tee out.txt", ASK),
    ("tee /dev/null", ALLOW),
    ("sed -n 1,5p x", ALLOW),
    ("sed -i s/a/b/ x", ASK),
    ("ls *.py > list.txt", ALLOW),  # exactly allowed, glob characters escaped
    ("ls a.py > list.txt", ASK),
]


@pytest.mark.parametrize(("command", "expected"), USER_TABLE, ids=[repr(c) for c, _ in USER_TABLE])
def test_user_glob_rules_allow_parts_but_not_what_they_hide(command: str, expected: str) -> None:
    assert USER_RULES.decide("bash", command) == expected


@pytest.mark.parametrize("command", ["eval ls", "exec ls", "source x.sh", ". x.sh", "sudo ls", "nohup ls", "timeout 5 ls",
                                     "watch ls", "command ls", "builtin echo", "xargs ls", "nice ls", "trap 'rm x' EXIT",
                                     "sh -c ls", "zsh -c ls", "perl -e 1", "ruby -e 1", "node -e 1"])
def test_runners_of_other_commands_ask_even_when_a_glob_allows_everything(command: str) -> None:
    everything = PermissionPolicy.from_config([{"tool": "bash", "pattern": "*", "action": "allow"}])
    assert everything.decide("bash", command) == ASK
    exactly = PermissionPolicy.from_config([{"tool": "bash", "pattern": exact_pattern(command), "action": "allow"}])
    assert exactly.decide("bash", command) == ALLOW
    assert everything.decide("bash", "command -v ls") == ALLOW


def test_a_later_ask_or_deny_rule_overrides_an_exact_allow_and_last_match_wins_per_part() -> None:
    policy = PermissionPolicy.from_config([
        {"tool": "bash", "pattern": "ls > out.txt", "action": "allow"},
        {"tool": "bash", "pattern": "ls*", "action": "ask"},
    ])
    assert policy.decide("bash", "ls > out.txt") == ASK
    assert policy.decide("bash", "ls") == ASK
    policy.add(PermissionRule("bash", "ls", ALLOW))
    assert policy.decide("bash", "ls") == ALLOW
    assert policy.decide("bash", "ls -la") == ASK
    whole = PermissionPolicy.from_config([{"tool": "bash", "pattern": "*rm -rf*", "action": "deny"}])
    assert whole.decide("bash", "ls $(echo x; rm -rf /tmp/y)") == DENY


def test_unparseable_commands_ask_unless_exactly_allowed() -> None:
    command = "echo $((1+2))"
    assert not parse_command(command).parsed
    policy = PermissionPolicy.from_config([{"tool": "bash", "pattern": "echo*", "action": "allow"}])
    assert policy.decide("bash", command) == ASK
    policy.add(PermissionRule("bash", exact_pattern(command), ALLOW))
    assert policy.decide("bash", command) == ALLOW


def test_parse_command_lists_commands_substitutions_and_redirections() -> None:
    parsed = parse_command("ls -la | wc -l && echo `id` > out.txt 2>&1; (pwd) >> log")
    assert [(p.kind, p.text) for p in parsed.parts] == [
        (COMMAND, "ls -la"), (COMMAND, "wc -l"), (COMMAND, "echo `id` > out.txt 2>&1"), (SUBSTITUTION, "`id`"),
        (COMMAND, "id"), (COMMAND, "pwd"), (REDIRECT, ">> log"),
    ]
    echo = parsed.parts[2]
    assert echo.writes == ("writes to out.txt",) and echo.runs_code == ()
    assert parse_command("ls 2>&1 >/dev/null").parts[0].risks == ()
    assert parse_command("cat <<EOF\nplain $HOME\nEOF").parts[0].risks == ()
    assert parse_command("cat <<EOF\n$(id)\nEOF").parts[0].runs_code == ("the here-document runs a command substitution",)
    assert not parse_command("cat <<'EOF'\n$(id)\nEOF").parsed  # bashlex rejects quoted delimiters: asked as a whole
    assert parse_command("").error == "the command is empty"
    assert "cannot be parsed" in (parse_command("ls &&").error or "")


def test_exact_pattern_matches_only_its_own_text() -> None:
    for text in ["ls *.py", "ls ?.py", "ls [ab].py", "echo [!x]", "git log -1", "ls [*].py"]:
        pattern = exact_pattern(text)
        assert fnmatch.fnmatchcase(text, pattern)
    assert not fnmatch.fnmatchcase("ls a.py", exact_pattern("ls *.py"))
    assert not fnmatch.fnmatchcase("ls x.py", exact_pattern("ls ?.py"))
    assert not fnmatch.fnmatchcase("ls a.py", exact_pattern("ls [ab].py"))
    assert exact_pattern("git log -1") == "git log -1"
    # it survives the round trip through the project config
    text = config_with_rule("", PermissionRule("bash", exact_pattern("ls *.py; pwd"), ALLOW))
    rules = parse_rules(tomllib.loads(text)["permissions"]["rules"])
    policy = PermissionPolicy.from_config(None)
    for rule in rules:
        policy.add(rule)
    assert policy.decide("bash", "ls *.py > x") == ASK
    assert policy.decide("bash", "ls *.py; pwd") == ALLOW
    assert policy.decide("bash", "ls a.py; pwd") == ALLOW  # allowed part by part anyway (ls*, pwd)


def test_the_prompt_preview_lists_each_part_and_why(tmp_path: Path) -> None:
    context = ToolContext(project_root=tmp_path, session_id="s")
    preview = Bash().preview({"command": "ls; touch /x"}, context)
    assert preview == "$ ls; touch /x\n  ✓ ls  (allowed)\n  ? touch /x  (no rule allows it)"
    preview = Bash().preview({"command": "git log -1 --output=/x/f"}, context)
    assert "? git log -1 --output=/x/f  (git log --output=/x/f writes a file)" in preview
    assert "? $(id)  (command substitution runs a command)" in Bash().preview({"command": "ls $(id)"}, context)
    assert "cannot be parsed" in Bash().preview({"command": "echo $((1))"}, context)
    context.services["permissions"] = PermissionPolicy.from_config([{"tool": "bash", "pattern": "touch*", "action": "deny"}])
    assert "✗ touch /x  (denied by a rule)" in Bash().preview({"command": "ls; touch /x"}, context)


async def test_always_on_a_chained_command_remembers_exactly_that_command(
    agent_project: AgentProject, openai_server: LocalOpenAIServer
) -> None:
    agent_project.use_server(openai_server.base_url)
    (agent_project.root / "a.py").write_text("x\n")
    bash = lambda command: ToolCall("bash", json.dumps({"command": command}))  # noqa: E731
    chained = "ls *.py; touch made.txt"
    openai_server.queue(
        Reply(tool_calls=[bash(chained)]), Reply(text="1"),
        Reply(tool_calls=[bash(chained)]), Reply(text="2"),
        Reply(tool_calls=[bash("ls a.py; touch made.txt")]), Reply(text="3"),
    )
    events = RecordedEvents(answers=["always", "reject"])
    agent = agent_project.open(events)
    for prompt in ("one", "two", "three"):
        await agent.run_turn(prompt)
    asks = events.of(ev.PermissionRequest)
    assert [a.subject for a in asks] == [chained, "ls a.py; touch made.txt"]  # the second run was not asked
    assert "? touch made.txt  (no rule allows it)" in asks[0].preview
    assert [f.status for f in events.of(ev.ToolCallFinished)] == ["ok", "ok", "denied"]
    config = tomllib.loads((agent_project.root / ".mimo" / "config.toml").read_text())
    assert {"tool": "bash", "pattern": "ls [*].py; touch made.txt", "action": "allow"} in config["permissions"]["rules"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    main(["run", "--json", *argv])
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_mimo_run_asks_before_a_chained_command_and_runs_it_with_yes(
    agent_project: AgentProject, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(agent_project.root)
    outside = tmp_path / "outside"
    outside.mkdir()
    record = _run(capsys, "run ls")
    assert record["permission_asks"] == [] and record["tool_calls"][0]["status"] == "ok"
    assert "README.md" in record["tool_calls"][0]["result"]
    record = _run(capsys, f"run ls; touch {outside}/pwned")
    assert [c["status"] for c in record["tool_calls"]] == ["denied"] and record["permission_asks"][0]["tool"] == "bash"
    assert not (outside / "pwned").exists()
    record = _run(capsys, "--yes", f"run ls; touch {outside}/pwned")
    assert [c["status"] for c in record["tool_calls"]] == ["ok"]
    assert (outside / "pwned").exists()


def test_headless_mimo_run_shows_the_parts_it_asked_about(
    agent_project: AgentProject, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(agent_project.root)
    main(["run", f"run ls; touch {tmp_path}/pwned"])
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "✓ ls  (allowed)" in shown and f"? touch {tmp_path}/pwned  (no rule allows it)" in shown
    assert not (tmp_path / "pwned").exists()


def test_mimo_run_asks_before_git_log_output(
    agent_project: AgentProject, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = agent_project.root
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(git + ["add", "README.md"], cwd=root, check=True)
    subprocess.run(git + ["commit", "-qm", "first"], cwd=root, check=True)
    monkeypatch.chdir(root)
    target = tmp_path / "outside-log.txt"
    record = _run(capsys, "run git status --porcelain")
    assert record["permission_asks"] == [] and record["tool_calls"][0]["status"] == "ok"
    record = _run(capsys, f"run git log -1 --output={target}")
    assert record["tool_calls"][0]["status"] == "denied" and not target.exists()
    record = _run(capsys, "--yes", f"run git log -1 --output={target}")
    assert record["tool_calls"][0]["status"] == "ok" and "first" in target.read_text()


async def test_the_tui_prompt_shows_the_parts_of_a_chained_command(agent_project: AgentProject, make_chat_app) -> None:
    from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
    from tests.fixtures.chat_app import send, wait_for_agent, wait_idle, wait_until

    app = make_chat_app()
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "run ls; touch made.txt")
        await wait_until(pilot, lambda: bool(app.query(PermissionPrompt)), timeout=30, what="the permission prompt")
        prompt = app.query_one(PermissionPrompt)
        shown = prompt.preview
        assert "✓ ls  (allowed)" in shown and "? touch made.txt  (no rule allows it)" in shown
        await wait_until(pilot, lambda: app.focused is prompt, what="the prompt to take focus")
        app.save_screenshot("/tmp/shell-prompt.svg")
        await pilot.press("r")
        await wait_idle(pilot)
    assert not (agent_project.root / "made.txt").exists()


def test_input_that_sends_the_parser_into_a_loop_asks_within_a_second() -> None:
    # bashlex loops forever (allocating as it goes) on this: the parse budget stops it and the command asks
    started = time.perf_counter()
    parsed = parse_command("ls||$'#{${'")
    assert parsed.error == "the command is too complex to check"
    assert time.perf_counter() - started < 2.0
    assert DEFAULTS.decide("bash", "ls||$'#{${'") == ASK
    long_command = "ls; " * 3000
    assert "too long" in (parse_command(long_command).error or "") and DEFAULTS.decide("bash", long_command) == ASK
    previous = sys.gettrace()

    def tracer(frame, event, arg):  # stands for a debugger or coverage: it must be put back after a parse
        return None

    sys.settrace(tracer)
    try:
        parse_command("ls -la")
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


FUZZ_TOKENS = ["ls", "pwd", "touch PWN", " ", " ", ";", "&&", "||", "|", "&", "|&", "\\", "'", '"', "$'", "\\'", "#", "\n",
               "$(", ")", "(", "{", "}", "`", "<<", "<<-", "<<<", "EOF", "x", "-la", "$", "${", "=", "\r", "\t", ">", "/dev/null",
               "2>&1", "!", "do", "done", "for", "in", "if", "then", "fi", "\\\n", "<", "*", ",", "~", ";;", "$'\\''"]
RAN_ALLOWED = ("ls", "pwd", "git log", "git status", "git diff", "for ")


def test_what_the_rules_allow_is_all_that_real_bash_runs(tmp_path: Path) -> None:
    """Differential check against bash itself: for allowed commands (table entries and seeded random token soup), a DEBUG
    trap records every simple command bash runs; none may be other than ls, pwd or git log, and PWN is never created."""
    import random

    rng = random.Random(19)
    candidates = [c for c, expected in DEFAULT_TABLE if expected == ALLOW]
    candidates += [rng.choice(["ls ", "pwd", "ls", "git log "]) + "".join(rng.choice(FUZZ_TOKENS) for _ in range(rng.randint(1, 7)))
                   for _ in range(1500)]
    allowed = [c for c in candidates if DEFAULTS.decide("bash", c) == ALLOW]
    assert len(allowed) > 150  # the soup must exercise the parser, not only be refused
    log = tmp_path / "ran"
    trap = f'exec 3>>"{log}"; trap \'printf "%s\\0" "$BASH_COMMAND" >&3\' DEBUG\n'
    wrong = []
    for command in allowed:
        log.write_text("")
        subprocess.run(["bash", "-c", trap + command], cwd=tmp_path, capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        ran = [c for c in log.read_text().split("\0") if c and not c.startswith(("exec 3", "trap "))]
        if any(not c.startswith(RAN_ALLOWED) for c in ran) or (tmp_path / "PWN").exists():
            wrong.append((command, ran))
            (tmp_path / "PWN").unlink(missing_ok=True)
    assert wrong == [], "\n".join(f"{c!r} ran {r}" for c, r in wrong)
