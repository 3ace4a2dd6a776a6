"""A model with no way to authenticate is named before any call, with what is missing and where to set it."""

from __future__ import annotations

import pytest

from mimo_tui.llm import resolve_model
from mimo_tui.llm.models import missing_credentials


@pytest.fixture(autouse=True)
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MIMO_TEST_KEY"):
        monkeypatch.delenv(variable, raising=False)


def test_hosted_models_without_a_key_say_which_variable_and_which_table() -> None:
    message = missing_credentials(resolve_model("openai/gpt-4o-mini"))
    assert message is not None and "OPENAI_API_KEY" in message and '[models."openai/gpt-4o-mini"]' in message
    assert "ANTHROPIC_API_KEY" in (missing_credentials(resolve_model("claude-3-5-haiku-latest")) or "")


def test_alias_is_named_as_the_user_wrote_it() -> None:
    spec = resolve_model("fast", {"fast": {"model": "openai/gpt-4o-mini"}})
    assert '[models."fast"]' in (missing_credentials(spec, "fast") or "")


def test_a_key_an_api_base_an_env_variable_or_an_offline_model_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert missing_credentials(resolve_model("openai/x", {"openai/x": {"api_key": "sk-1"}})) is None
    assert missing_credentials(resolve_model("openai/x", {"openai/x": {"api_base": "http://127.0.0.1:9/v1"}})) is None
    assert missing_credentials(resolve_model("offline/agent")) is None
    assert missing_credentials(resolve_model("ollama/llama3")) is None  # a local provider: left to the call
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert missing_credentials(resolve_model("openai/gpt-4o-mini")) is None
