"""A SKILL.md without front matter: the message saying exactly what to add, and `--init`, which adds it."""

from __future__ import annotations

import re
from pathlib import Path

from mimo_tui.atomic_file import atomic_write
from mimo_tui.store import VersionedStore
from mimo_tui.store.records import USER


def has_front_matter(text: str) -> bool:
    lines = text.lstrip("\ufeff").splitlines()
    return bool(lines) and lines[0].strip() == "---"


def suggested_description(body: str, name: str) -> str:
    """The first sentence of the body's first paragraph (not a heading), else a plain one from the name."""
    for block in re.split(r"\n\s*\n", body):
        text = " ".join(line.strip() for line in block.splitlines() if not line.lstrip().startswith(("#", "-", "*", "<")))
        text = text.strip()
        if len(text) >= 10:
            sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
            return (sentence[:200].rstrip() + ("..." if len(sentence) > 200 else "")).replace('"', "'")
    return f"The {name.replace('-', ' ')} skill."


def front_matter_block(name: str, body: str) -> str:
    return f'---\nname: {name}\ndescription: "{suggested_description(body, name)}"\n---\n'


def missing_front_matter_message(path: Path, name: str) -> str:
    """What to add at the top of a SKILL.md that has no front matter (or how to let `--init` add it)."""
    return (f"{path} has no front matter. Add these lines at the very top (the description says what the skill does "
            f"and when to use it):\n---\nname: {name}\ndescription: <what the skill does and when to use it>\n---\n"
            f"or run `mimo skill train {name} --init` to add them with a description taken from the file.")


def add_front_matter(path: Path, name: str, store: VersionedStore | None = None) -> bool:
    """Prepend front matter to `path` unless it has some; False when nothing was changed. A skill inside the
    memory repo is written through the store (a commit); elsewhere the file is replaced atomically."""
    text = path.read_text(encoding="utf-8")
    if has_front_matter(text):
        return False
    new = front_matter_block(name, text) + "\n" + text.lstrip("\ufeff").lstrip("\n")
    if store is not None:
        try:
            rel = path.resolve().relative_to(store.root.resolve()).as_posix()
        except ValueError:
            rel = None
        if rel is not None:
            store.write(rel, new, USER, message=f"skill: add front matter to {rel} (mimo skill train --init)")
            return True
    atomic_write(path, new.encode("utf-8"))
    return True
