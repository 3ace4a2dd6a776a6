"""Dream checks MEMORY.md against later session history (an entry a later message restates with another value is
marked with that session; agreeing or unrelated messages change nothing), and folds the facts under a checkpoint's
"Durable facts" heading into MEMORY.md with their session, deduped against what is there, without a model."""

from __future__ import annotations

import time

from mimo_tui.cli import main
from mimo_tui.project import Project
from mimo_tui.sessions import SessionStore
from tests.test_dream import memory, memory_with, project  # noqa: F401  (the fixture)


def say(project: Project, *texts: str) -> str:
    sessions = SessionStore(project.workspace.state_db)
    session = sessions.create("offline/agent")
    for n, text in enumerate(texts, 1):
        sessions.add_message(session.id, n, "user", text)
        sessions.add_message(session.id, n, "assistant", "Noted.")
    sessions.close()
    return session.id


def test_an_entry_a_later_session_contradicts_is_marked_with_that_session(project: Project, monkeypatch,
                                                                          capsys) -> None:
    project.store.write("MEMORY.md", memory_with(Discovered_durable_knowledge=[
        "- The API server listens on port 8080 in development.",
        "- The build cache lives in `build/cache` for 14 days.",
        "- Releases are tagged by hand after the changelog is updated."]))
    time.sleep(1.05)  # blame dates lines to the second: the session below is later
    sid = say(project, "Heads up: the API server listens on port 9090 in development now.",
              "The build cache lives in build/cache for 14 days, as before. We shipped 3 releases in 2024.")
    monkeypatch.chdir(project.root)
    assert main(["dream", "--no-model"]) == 0
    text = memory(project)
    marked = [line for line in text.splitlines() if "[contradicted" in line]
    assert len(marked) == 1 and "port 8080" in marked[0] and f"session {sid}" in marked[0] and "9090" in marked[0]
    assert "- Releases are tagged by hand after the changelog is updated." in text
    assert "- The build cache lives in `build/cache` for 14 days." in text
    assert project.store.head().author == "dream"


def test_durable_facts_of_a_checkpoint_are_folded_in_once_with_their_session(project: Project, monkeypatch) -> None:
    project.store.write("MEMORY.md", memory_with(Rules=["- Always run the test suite with `pytest -q` before every "
                                                        "commit."]))
    project.store.write("sessions/s-42/checkpoint.md", "# Checkpoint\n\n## §1 Goal\n- ship it\n\n## Durable facts\n"
                        "- CI runs on Python 3.11 only.\n- Always run the test suite with pytest -q before every commit\n"
                        "\n## §2 Next\n- nothing\n")
    monkeypatch.chdir(project.root)
    assert main(["dream", "--no-model"]) == 0
    text = memory(project)
    assert text.count("CI runs on Python 3.11 only.") == 1 and "(session s-42" in text
    assert text.count("pytest -q") == 1 and "ship it" not in text and "nothing" not in text
    section = text.split("## Discovered durable knowledge", 1)[1]
    assert "CI runs on Python 3.11 only." in section
    head = project.store.head().sha
    assert main(["dream", "--no-model"]) == 0
    assert project.store.head().sha == head  # folded once: a second dream has nothing to add
