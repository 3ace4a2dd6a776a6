"""A skill as one trainable unit: SKILL.md plus the text files under scripts/ and references/.

Inside the trainer a version is one text (so scoring, caching, gating and leak checks see one value): the SKILL.md
text, followed by one marked section per other file. A skill of SKILL.md alone packs to its SKILL.md text exactly,
so single-file runs (and their caches) are unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

SKILL_FILE = "SKILL.md"
TRAINED_FOLDERS = ("scripts", "references")
MAX_FILE_BYTES = 200_000
_OPEN = "<!-- mimo:file {path} -->"
_CLOSE = "<!-- /mimo:file {path} -->"
_SECTION = re.compile(r"\n<!-- mimo:file (?P<path>[^\n>]+?) -->\n(?P<body>.*?)<!-- /mimo:file (?P=path) -->\n", re.S)


class SkillFileError(ValueError):
    """A path that is not a trainable file of a skill (outside it, in another folder, or binary)."""


def check_path(path: str) -> str:
    """The normalised relative path of a trainable file; raises SkillFileError naming the problem."""
    raw = (path or SKILL_FILE).strip().replace("\\", "/")
    rel = PurePosixPath(raw)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise SkillFileError(f"{raw!r} is outside the skill folder")
    text = str(rel)
    if text == SKILL_FILE:
        return text
    if len(rel.parts) < 2 or rel.parts[0] not in TRAINED_FOLDERS:
        raise SkillFileError(f"{raw!r} is not SKILL.md or a file under {' or '.join(f'{f}/' for f in TRAINED_FOLDERS)}")
    return text


def _text_of(path: Path) -> str | None:
    """A file's text, or None when it is binary, not UTF-8 or too large to train."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) > MAX_FILE_BYTES or b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_skill_files(folder: Path) -> dict[str, str]:
    """SKILL.md and the text files under scripts/ and references/ of a skill folder (binary files left out)."""
    files: dict[str, str] = {}
    main = _text_of(folder / SKILL_FILE)
    if main is None:
        raise SkillFileError(f"{folder / SKILL_FILE} is missing or not a text file")
    files[SKILL_FILE] = main
    for sub in TRAINED_FOLDERS:
        root = folder / sub
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            text = _text_of(path)
            if text is not None:
                files[path.relative_to(folder).as_posix()] = text
    return files


def pack(files: dict[str, str]) -> str:
    """One text for the trainer: SKILL.md, then a marked section per other file (sorted by path)."""
    text = files.get(SKILL_FILE, "")
    for path in sorted(p for p in files if p != SKILL_FILE):
        text += "\n" + _OPEN.format(path=path) + "\n" + files[path] + _CLOSE.format(path=path) + "\n"
    return text


def unpack(text: str) -> dict[str, str]:
    """The files of a packed version (the inverse of pack)."""
    first = _SECTION.search(text)
    if first is None:
        return {SKILL_FILE: text}
    files = {SKILL_FILE: text[: first.start()]}
    for match in _SECTION.finditer(text, first.start()):
        files[match.group("path")] = match.group("body")
    return files


def main_text(text: str) -> str:
    return unpack(text)[SKILL_FILE]


def _mentioned(path: str, *texts: str) -> bool:
    name = PurePosixPath(path).name
    return any(path in t or re.search(rf"(?<![\w./-]){re.escape(name)}(?![\w-])", t) for t in texts)


def render_for_target(text: str, task_input: str) -> str:
    """What the agent would see of the skill: the SKILL.md body, the list of its other files, and the content of
    those that SKILL.md or the task points to (progressive disclosure). SKILL.md alone renders as before."""
    files = unpack(text)
    main = files[SKILL_FILE]
    rendered = f"<skill>\n{main.strip()}\n</skill>"
    others = [p for p in files if p != SKILL_FILE]
    if not others:
        return rendered
    rendered += "\n\nFiles of this skill (read one when the skill or the task points to it):\n"
    rendered += "".join(f"- {p}\n" for p in others)
    for path in others:
        if _mentioned(path, main, task_input):
            rendered += f'\n<file path="{path}">\n{files[path].strip()}\n</file>\n'
    return rendered
