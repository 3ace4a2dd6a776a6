"""Views that stay true: after /new, after a skill appears on disk, after config and .mcp.json change."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


async def open_chat(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.project is not None, timeout=10)
    await wait_until(pilot, lambda: app.query_one("#chat-pane").agent is not None, timeout=10)
    await pilot.pause()


def tree_labels(tree) -> list[str]:
    found, stack = [], list(tree.root.children)
    while stack:
        node = stack.pop()
        found.append(str(node.label))
        stack.extend(node.children)
    return found


async def test_after_new_the_tasks_views_show_nothing_of_the_old_session(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await open_chat(pilot)
        chat = app.query_one("#chat-pane")
        old = chat.agent.session_id
        chat.services.tasks.create(old, "Zebra crossing audit", None, by="user")
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#task-tree")))
        tasks = app.query_one("#tasks-pane")
        await wait_until(pilot, lambda: "Zebra crossing audit" in tasks.query_one("#task-progress").source)
        await pilot.press("f1")
        side_list = app.query_one("#side-tasks-list")
        await wait_until(pilot, lambda: "T1 Zebra crossing audit" in str(side_list.render()))
        prompt = app.query_one("#prompt")
        prompt.value = "/new"
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.agent.session_id != old)
        await wait_until(pilot, lambda: tasks.session_id == chat.agent.session_id)
        await wait_until(pilot, lambda: not tree_labels(tasks.query_one("#task-tree"))
                         and "Zebra" not in tasks.query_one("#task-progress").source)
        side_tasks = app.query_one("#side-tasks")
        assert "Zebra" not in str(side_tasks.query_one("#side-tasks-list").render())


SKILL = "---\nname: {name}\ndescription: Use when the test needs a skill named {name}.\n---\n\n# {name}\n\nDo it well.\n"


async def test_the_skills_list_follows_the_disk_and_shows_a_name_once_with_its_winner(git_project: Path) -> None:
    from mimo_tui.ui.trainer.skill_catalogue import SkillCatalogue

    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None, timeout=10)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(SkillCatalogue)))
        catalogue = app.query_one(SkillCatalogue)
        await wait_until(pilot, lambda: "date-normalizer" in [e.name for e in catalogue.entries], timeout=10)
        skills = app.project.workspace.mimo_dir / "skills"
        for name in ("fresh-skill", "date-normalizer"):
            (skills / name).mkdir(parents=True, exist_ok=True)
            (skills / name / "SKILL.md").write_text(SKILL.format(name=name), encoding="utf-8")
        await wait_until(pilot, lambda: "fresh-skill" in [e.name for e in catalogue.entries], timeout=1.5)
        await wait_until(pilot, lambda: "date-normalizer" in catalogue.hidden, timeout=1.5)
        names = [e.name for e in catalogue.entries]
        assert names.count("date-normalizer") == 1
        winner = next(e for e in catalogue.entries if e.name == "date-normalizer")
        assert winner.origin == "project" and catalogue.hidden["date-normalizer"] == ["shipped"]
        row = str(catalogue.get_option_at_index(names.index("date-normalizer")).prompt)
        assert "wins over shipped" in row


async def test_model_added_to_config_after_start_is_usable_with_slash_model(agent_project, openai_server, make_chat_app) -> None:
    from tests.fixtures.chat_app import send, wait_for_agent, wait_idle
    from tests.fixtures.openai_server import Reply
    from tests.test_ui_chat_pilot import assistant_text, use_server

    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="answered by the later model"))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        config = agent_project.root / ".mimo" / "config.toml"
        config.write_text(config.read_text() + f'\n[models.later]\nmodel = "openai/later"\napi_base = "{openai_server.base_url}"\n'
                          'api_key = "env:MIMO_TEST_LATER_KEY"\n')
        import os
        os.environ["MIMO_TEST_LATER_KEY"] = "sk-later"
        try:
            await send(pilot, "/model later")
            await wait_until(pilot, lambda: pane.agent.spec.api_base == openai_server.base_url, timeout=5)
            await send(pilot, "hello")
            await wait_idle(pilot)
            assert "answered by the later model" in assistant_text(app)
        finally:
            del os.environ["MIMO_TEST_LATER_KEY"]
