"""Token counting offline, model resolution, and the cheap import of mimo_tui.llm."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mimo_tui.llm import ModelError, count_tokens, resolve_model

ROOT = Path(__file__).resolve().parent.parent


def test_count_tokens_offline() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2
    assert count_tokens("hello world", "openai/gpt-4o") == 2
    assert count_tokens("<|endoftext|> is plain text here") > 3
    text = "The quick brown fox jumps over the lazy dog. " * 2000
    started = time.perf_counter()
    assert 18000 <= count_tokens(text) <= 22000
    assert time.perf_counter() - started < 0.5


def test_import_is_cheap_and_does_not_load_litellm() -> None:
    code = "import sys, mimo_tui.llm; print('litellm' in sys.modules, 'tiktoken' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_resolve_model_reads_config_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMO_TEST_KEY", "sk-from-env")
    models = {
        "openai/gpt-4o-mini": {"api_key": "env:MIMO_TEST_KEY"},
        "local": {"model": "openai/qwen", "api_base": "http://127.0.0.1:8000/v1", "api_key": "sk-plain"},
    }

    assert resolve_model("openai/gpt-4o-mini", models).api_key == "sk-from-env"
    local = resolve_model("local", models)
    assert (local.name, local.api_base, local.api_key, local.offline) == ("openai/qwen", "http://127.0.0.1:8000/v1", "sk-plain", False)
    offline = resolve_model("offline/agent", models)
    assert offline.offline and "offline" in offline.label
    assert "offline" not in local.label


def test_resolve_model_reports_bad_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_MISSING_KEY", raising=False)
    with pytest.raises(ModelError, match="MIMO_MISSING_KEY, which is not set"):
        resolve_model("openai/x", {"openai/x": {"api_key": "env:MIMO_MISSING_KEY"}})
    with pytest.raises(ModelError, match="unknown setting"):
        resolve_model("openai/x", {"openai/x": {"api_bsae": "http://x"}})
    with pytest.raises(ModelError, match="must be a table"):
        resolve_model("openai/x", {"openai/x": "gpt"})
