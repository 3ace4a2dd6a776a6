"""Views that stay true, the leftovers: /model to a model without credentials, /mcp after .mcp.json appears."""

from __future__ import annotations

import time

import pytest

from tests.fixtures.ui import wait_until

SIZE = (120, 40)


def toasts(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_slash_model_without_credentials_says_what_is_missing_at_once(
        agent_project, openai_server, make_chat_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.chat_app import send, wait_for_agent
    from tests.test_ui_chat_pilot import use_server

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    use_server(agent_project, openai_server)
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        before = pane.agent.spec
        started = time.monotonic()
        await send(pilot, "/model openai/gpt-4o-mini")
        await wait_until(pilot, lambda: "no credentials" in toasts(app), timeout=2)
        assert time.monotonic() - started < 1.5
        message = toasts(app)
        assert "OPENAI_API_KEY" in message and '[models."openai/gpt-4o-mini"]' in message and "api_key" in message
        assert pane.agent.spec == before  # the working model stays
        assert not openai_server.requests
