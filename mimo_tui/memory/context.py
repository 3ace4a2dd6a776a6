"""Context assembly: the memory block injected into a model's context, in a fixed order under per-block caps."""

from __future__ import annotations

import os
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mimo_tui.memory.layers import SessionLayout, memory_files
from mimo_tui.memory.sections import split_sections
from mimo_tui.memory.tokens import count_tokens, head_tokens
from mimo_tui.memory.truncation import Fitted, fit_markdown, fit_plain

DEFAULT_CAPS: dict[str, int] = {
    "task_ledger": 2000,
    "focus_task": 4000,
    "checkpoint": 11000,
    "active_subagents": 500,
    "project_memory": 10000,
    "global_memory": 6000,
    "notes": 6000,
    "recent_user_messages": 16000,
    "other_memory_files": 500,
}
BLOCK_TITLES = {
    "task_ledger": "Task ledger",
    "focus_task": "Focus task",
    "checkpoint": "Session checkpoint",
    "active_subagents": "Active subagents",
    "project_memory": "Project memory",
    "global_memory": "Global memory",
    "notes": "Session notes",
    "recent_user_messages": "The user's recent messages, verbatim",
    "other_memory_files": "Other memory files (search or read them when needed)",
}
PER_MESSAGE_CAP = 2000
# Memory may take at most this share of a model's window; caps shrink in proportion beyond it.
WINDOW_SHARE = 0.5
RESUME_LINE = ("Resume directly from the checkpoint's next concrete action; do not recap what was done. "
               "Memory entries are claims to verify, not facts.")
_CACHE_SIZE = 64
# Listing every file of a large memory repo costs milliseconds; titles of other files may lag this long.
LISTING_TTL = 2.0


@dataclass(frozen=True)
class MemoryBlock:
    """One block of the assembled context: its text, tokens used against its cap, and where it came from."""

    name: str
    title: str
    text: str
    tokens: int
    cap: int
    source: Path | None = None
    cut_tokens: int = 0

    @property
    def empty(self) -> bool:
        return not self.text


@dataclass(frozen=True)
class ContextBlock:
    """The whole memory block for a session, ready to inject, with per-block accounting."""

    session_id: str
    context_window: int
    blocks: tuple[MemoryBlock, ...]
    resume_line: str | None

    @property
    def text(self) -> str:
        parts = [block.text for block in self.blocks if block.text]
        if self.resume_line:
            parts.append(self.resume_line)
        return "\n\n".join(parts)

    @property
    def tokens(self) -> int:
        return sum(block.tokens for block in self.blocks) + (count_tokens(self.resume_line) if self.resume_line else 0)

    def block(self, name: str) -> MemoryBlock:
        return next(block for block in self.blocks if block.name == name)


@dataclass
class ContextSources:
    """What other parts of the app know about a session, handed in as plain callables of the session id."""

    task_ledger: Callable[[str], str] | None = None
    focus_task: Callable[[str], str] | None = None
    active_subagents: Callable[[str], str] | None = None
    recent_user_messages: Callable[[str], list[str]] | None = None
    # The user's messages the context already carries verbatim (a rebuilt context's tail): they are the newest of
    # the user's recent messages, so they count toward that block's cap and are not said again in it.
    user_messages_in_context: Callable[[str], list[str]] | None = None
    has_open_work: Callable[[str], bool] | None = None
    # For a session without a checkpoint of its own: the relevant parts of the project's last one.
    previous_checkpoint: Callable[[str], str] | None = None


def scaled_caps(caps: dict[str, int], context_window: int) -> dict[str, int]:
    """Caps shrunk in proportion when together they exceed WINDOW_SHARE of the window."""
    total = sum(caps.values())
    allowed = int(context_window * WINDOW_SHARE)
    if total <= allowed or total == 0:
        return dict(caps)
    return {name: cap * allowed // total for name, cap in caps.items()}


@dataclass
class _FileCounts:
    text: str
    tokens: int
    fitted: dict[int, Fitted] = field(default_factory=dict)


class ContextAssembler:
    """Builds the memory block of a session from the memory repos and the sources other packages provide."""

    def __init__(
        self,
        memory_dir: Path,
        global_dir: Path | None = None,
        sources: ContextSources | None = None,
        display_root: Path | None = None,
    ) -> None:
        self.memory_dir = memory_dir
        self.global_dir = global_dir
        self.sources = sources or ContextSources()
        self.display_root = display_root if display_root is not None else memory_dir.parent
        self._files: OrderedDict[tuple[str, int, int], _FileCounts] = OrderedDict()
        self._wrappers: dict[tuple[str, Path | None], int] = {}
        self._memo: OrderedDict[tuple[str, str, int], Fitted] = OrderedDict()
        self._titles: dict[tuple[Path, int], str] = {}
        self._listings: dict[Path, tuple[float, dict[str, os.stat_result]]] = {}
        self._others: dict[tuple[str, int], tuple[float, MemoryBlock]] = {}

    def _listing(self, folder: Path) -> dict[str, os.stat_result]:
        """The memory files of a repo, listed again at most every LISTING_TTL seconds."""
        now = time.monotonic()
        cached = self._listings.get(folder)
        if cached is None or now - cached[0] > LISTING_TTL:
            cached = self._listings[folder] = (now, memory_files(folder))
        return cached[1]

    def _remember(self, kind: str, text: str, cap: int, fit: Callable[[], Fitted]) -> Fitted:
        """Fitted text from the memo when the same text was fitted to the same cap before."""
        key = (kind, text, cap)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = fit()
            while len(self._memo) > 4 * _CACHE_SIZE:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(key)
        return found

    def build(self, session_id: str, context_window: int, caps: dict[str, int] | None = None,
              room: int | None = None) -> ContextBlock:
        """The memory block for `session_id` under a model window of `context_window` tokens.

        `room`, when given, is what the context may hold before it is rebuilt (the top threshold): the caps
        then shrink against it instead of the whole window, so a rebuilt context leaves room to work.
        """
        caps = scaled_caps({**DEFAULT_CAPS, **(caps or {})}, min(context_window, room or context_window))
        layout = SessionLayout(session_id)
        checkpoint = self.memory_dir / layout.checkpoint
        notes = self.memory_dir / layout.notes
        blocks = [
            self._provided("task_ledger", session_id, caps),
            self._provided("focus_task", session_id, caps),
            self._checkpoint_block(session_id, checkpoint, caps),
            self._provided("active_subagents", session_id, caps),
            self._file_block("project_memory", self.memory_dir / "MEMORY.md", caps),
            self._file_block("global_memory", self.global_dir / "MEMORY.md" if self.global_dir else None, caps),
            self._file_block("notes", notes if _has_notes_entries(notes) else None, caps),
            self._recent_messages(session_id, caps),
            self._other_files(session_id, caps),
        ]
        blocks = _without_repeats(blocks)
        open_work = bool(self.sources.has_open_work and self.sources.has_open_work(session_id))
        resume = RESUME_LINE if open_work and not blocks[2].empty else None
        return ContextBlock(session_id, context_window, tuple(blocks), resume)

    # -- blocks ---------------------------------------------------------------------------------
    def _display(self, path: Path) -> str:
        try:
            return path.relative_to(self.display_root).as_posix()
        except ValueError:
            return str(path)

    def _wrap(self, name: str, body: str, source: Path | None) -> tuple[str, str]:
        where = f' source="{self._display(source)}"' if source else ""
        return f'<memory block="{name}"{where}>\n', "\n</memory>"

    def _finish(self, name: str, fitted: Fitted, cap: int, source: Path | None) -> MemoryBlock:
        head, tail = self._wrap(name, fitted.text, source)
        tokens = fitted.tokens + self._wrapper_tokens(name, source)
        return MemoryBlock(name, BLOCK_TITLES[name], head + fitted.text + tail, tokens, cap, source, fitted.cut_tokens)

    def _empty(self, name: str, cap: int, source: Path | None = None) -> MemoryBlock:
        return MemoryBlock(name, BLOCK_TITLES[name], "", 0, cap, source)

    def _wrapper_tokens(self, name: str, source: Path | None) -> int:
        key = (name, source)
        if key not in self._wrappers:
            head, tail = self._wrap(name, "", source)
            self._wrappers[key] = count_tokens(head) + count_tokens(tail) + 1
        return self._wrappers[key]

    def _provided(self, name: str, session_id: str, caps: dict[str, int]) -> MemoryBlock:
        provider: Callable[[str], str] | None = getattr(self.sources, name)
        text = (provider(session_id) or "").strip() if provider else ""
        cap = caps[name]
        if not text or cap <= 0:
            return self._empty(name, cap)
        inner = cap - self._wrapper_tokens(name, None)
        fitted = self._remember(name, text, inner, lambda: fit_markdown(text, inner, BLOCK_TITLES[name], count_tokens))
        return self._finish(name, fitted, cap, None)

    def _checkpoint_block(self, session_id: str, path: Path, caps: dict[str, int]) -> MemoryBlock:
        block = self._file_block("checkpoint", path, caps)
        provider = self.sources.previous_checkpoint
        if not block.empty or provider is None:
            return block
        text = (provider(session_id) or "").strip()
        cap = caps["checkpoint"]
        if not text or cap <= 0:
            return block
        inner = cap - self._wrapper_tokens("checkpoint", None)
        fitted = self._remember("previous_checkpoint", text, inner,
                                lambda: fit_markdown(text, inner, "the last checkpoint", count_tokens))
        return self._finish("checkpoint", fitted, cap, None)

    def _counts(self, path: Path) -> _FileCounts | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        cached = self._files.get(key)
        if cached is None:
            try:
                text = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            cached = _FileCounts(text, count_tokens(text))
            self._files[key] = cached
            while len(self._files) > _CACHE_SIZE:
                self._files.popitem(last=False)
        else:
            self._files.move_to_end(key)
        return cached

    def _file_block(self, name: str, path: Path | None, caps: dict[str, int]) -> MemoryBlock:
        cap = caps[name]
        counts = self._counts(path) if path is not None else None
        if counts is None or not counts.text or cap <= 0:
            return self._empty(name, cap, path)
        assert path is not None
        inner = cap - self._wrapper_tokens(name, path)
        fitted = counts.fitted.get(inner)
        if fitted is None:
            fitted = (Fitted(counts.text, counts.tokens, 0, counts.tokens) if counts.tokens <= inner else
                      fit_markdown(counts.text, inner, self._display(path), count_tokens, counts.tokens))
            counts.fitted[inner] = fitted
        return self._finish(name, fitted, cap, path)

    def _recent_messages(self, session_id: str, caps: dict[str, int]) -> MemoryBlock:
        name = "recent_user_messages"
        cap = caps[name]
        provider = self.sources.recent_user_messages
        in_context_provider = self.sources.user_messages_in_context
        in_context = [m for m in (in_context_provider(session_id) if in_context_provider else []) if m and m.strip()]
        said = {m.strip() for m in in_context}
        messages = _last_of_each([m for m in (provider(session_id) if provider else [])
                                  if m and m.strip() and m.strip() not in said])
        if not messages or cap <= 0:
            return self._empty(name, cap)
        budget = cap - self._wrapper_tokens(name, None)
        per_message = min(PER_MESSAGE_CAP, budget)
        for message in _last_of_each(in_context):
            budget -= self._remember("message", message, per_message - 3,
                                     lambda: fit_plain(message.strip(), per_message - 3, count_tokens, head_tokens)).tokens + 3
        chosen: list[str] = []
        cut = 0
        for message in reversed(messages):
            fitted = self._remember("message", message, per_message - 3,
                                    lambda: fit_plain(message.strip(), per_message - 3, count_tokens, head_tokens))
            entry = f"> {fitted.text}" if fitted.text else ""
            used = fitted.tokens + 3
            if not entry or used > budget:
                cut += sum(self._remember("message", m, per_message - 3,
                                          lambda m=m: fit_plain(m.strip(), per_message - 3, count_tokens, head_tokens)).full_tokens
                           for m in messages[: len(messages) - len(chosen)])
                break
            cut += fitted.cut_tokens
            chosen.append(entry)
            budget -= used
        body = "\n\n".join(reversed(chosen))
        counted = self._remember("messages", body, 0, lambda: Fitted(body, count_tokens(body), 0, 0))
        return self._finish(name, Fitted(body, counted.tokens, cut, 0), cap, None)

    def _other_files(self, session_id: str, caps: dict[str, int]) -> MemoryBlock:
        key = (session_id, caps["other_memory_files"])
        cached = self._others.get(key)
        if cached is None or time.monotonic() - cached[0] > LISTING_TTL:
            cached = self._others[key] = (time.monotonic(), self._list_other_files(session_id, caps))
        return cached[1]

    def _list_other_files(self, session_id: str, caps: dict[str, int]) -> MemoryBlock:
        name = "other_memory_files"
        cap = caps[name]
        layout = SessionLayout(session_id)
        shown = {"MEMORY.md", layout.checkpoint, layout.notes}
        candidates: list[tuple[int, float, Path, str]] = []
        for folder, label in ((self.memory_dir, ""), (self.global_dir, "global:")):
            if folder is None:
                continue
            for rel, stat in self._listing(folder).items():
                if (rel != "MEMORY.md") if label else (rel not in shown):
                    own = rel.startswith(layout.folder + "/")
                    candidates.append((0 if own else 1, -stat.st_mtime, folder / rel, label + rel))
        if not candidates or cap <= 0:
            return self._empty(name, cap)
        candidates.sort()
        budget = cap - self._wrapper_tokens(name, None) - 12
        lines: list[str] = []
        for index, (_, mtime, path, label) in enumerate(candidates):
            key = (path, int(mtime * 1e9))
            if key not in self._titles:
                self._titles[key] = _title_of(path)
            line = f"- {label}: {self._titles[key]}"
            used = count_tokens(line + "\n")
            if used > budget:
                lines.append(f"- … and {len(candidates) - index} more")
                break
            lines.append(line)
            budget -= used
        body = "\n".join(lines)
        return self._finish(name, Fitted(body, cap - self._wrapper_tokens(name, None) - 12 - budget, 0, 0), cap, None)


# Blocks whose list entries or messages may repeat what the checkpoint already says word for word (the writer
# copies durable facts into both checkpoint.md and MEMORY.md, and quotes the user's request verbatim).
_REPEATABLE = ("project_memory", "global_memory", "notes", "recent_user_messages")
_MIN_REPEAT_CHARS = 16
_PROVENANCE = re.compile(r"\s*\(session [^()]*\)$")


def _without_repeats(blocks: list[MemoryBlock]) -> list[MemoryBlock]:
    """The blocks with the templates' instruction lines and entries already in the checkpoint block left out."""
    blocks = [_without_instructions(b) if b.name in _TEMPLATED and not b.empty else b for b in blocks]
    checkpoint = next((b for b in blocks if b.name == "checkpoint"), None)
    if checkpoint is not None and not checkpoint.empty:
        said = checkpoint.text
        blocks = [_drop_repeats(b, said) if b.name in _REPEATABLE and not b.empty else b for b in blocks]
    return [_without_empty_sections(b) if b.name in _MEMORY_FILES and not b.empty else b for b in blocks]


# Memory files mimo creates from templates: under each heading an italic line tells the writer what goes there.
# The model reading the injected block needs the headings and what they hold, not those instructions.
_TEMPLATED = ("checkpoint", "project_memory", "global_memory")
_INSTRUCTION = re.compile(r"^(#{1,6} [^\n]*)\n_[^_\n][^\n]*_$", re.M)


def _without_instructions(block: MemoryBlock) -> MemoryBlock:
    text = _INSTRUCTION.sub(r"\1", block.text)
    return block if text == block.text else replace(block, text=text, tokens=count_tokens(text))


# MEMORY.md files start as a template of empty sections: headings with nothing under them tell the model nothing.
_MEMORY_FILES = ("project_memory", "global_memory")
_ITALIC_LINE = re.compile(r"_[^_\n].*_")  # a template's intro or instruction line, not an entry


def _without_empty_sections(block: MemoryBlock) -> MemoryBlock:
    """The block without headings that hold nothing (nor do their subsections); empty when nothing is left."""
    head, _, rest = block.text.partition("\n")
    body, _, tail = rest.rpartition("\n")
    sections = split_sections(body)
    kept: list[str] = []
    filled_below = [False] * 7  # by heading level: has a later, deeper section content?
    for section in reversed(sections):
        has_text = any(line.strip() and not _ITALIC_LINE.fullmatch(line.strip()) for line in section.body)
        below = any(filled_below[section.level + 1:]) if section.level else False
        if section.level <= 1 or has_text or below:
            kept.append(section.text if section.level else "\n".join(section.body))
        if section.level:
            filled_below[section.level] = filled_below[section.level] or has_text or below
            for deeper in range(section.level + 1, 7):
                filled_below[deeper] = False
    if not any(filled_below):
        return replace(block, text="", tokens=0)
    text = "\n".join([head, *reversed(kept), tail]) if kept else ""
    text = re.sub(r"\n{3,}", "\n\n", text)
    return block if text == block.text else replace(block, text=text, tokens=count_tokens(text))


def _repeated_entry(line: str, said: str) -> bool:
    """A list entry the checkpoint already holds, word for word (MEMORY.md's provenance suffix aside)."""
    entry = _PROVENANCE.sub("", line.strip())
    return entry.startswith(("- ", "* ")) and len(entry) >= _MIN_REPEAT_CHARS and entry in said


def _drop_repeats(block: MemoryBlock, said: str) -> MemoryBlock:
    head, _, rest = block.text.partition("\n")
    body, _, tail = rest.rpartition("\n")
    if block.name == "recent_user_messages":
        entries = body.split("\n\n")
        kept = [e for e in entries if not (e.startswith("> ") and len(e) - 2 >= _MIN_REPEAT_CHARS and e[2:] in said)]
        joiner = "\n\n"
    else:
        entries = body.split("\n")
        kept = [e for e in entries if not _repeated_entry(e, said)]
        joiner = "\n"
    dropped = len(entries) - len(kept)
    if not dropped:
        return block
    kept.append(f"({dropped} {'entry' if dropped == 1 else 'entries'} also in the session checkpoint above, not repeated)")
    text = f"{head}\n{joiner.join(kept)}\n{tail}"
    return replace(block, text=text, tokens=count_tokens(text))


def _last_of_each(messages: list[str]) -> list[str]:
    """Messages in order with a repeated one ("continue", "go on") kept only where it was said last."""
    seen: set[str] = set()
    kept: list[str] = []
    for message in reversed(messages):
        key = message.strip()
        if key not in seen:
            seen.add(key)
            kept.append(message)
    return kept[::-1]


def _has_notes_entries(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "\n## [turn " in "\n" + text


def _title_of(path: Path) -> str:
    """The first heading of a memory file (or its name when it has none)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(2048)
    except OSError:
        return path.stem
    for section in split_sections(head):
        if section.level:
            return section.title
    return path.stem


__all__ = ["ContextAssembler", "ContextBlock", "ContextSources", "DEFAULT_CAPS", "MemoryBlock", "scaled_caps"]
