"""What a dream did, for the CLI, the memory pane and the commit message."""

from __future__ import annotations

from dataclasses import dataclass, field

from mimo_tui.store import CommitInfo


@dataclass(frozen=True)
class Change:
    """One entry dream touched: its text before, after (empty when removed) and why."""

    before: str
    after: str
    why: str


@dataclass
class DreamReview:
    """Consolidated (merged duplicates), updated, deleted and skipped entries, plus what the passes saw."""

    consolidated: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    deleted: list[Change] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    size_before: tuple[int, int] = (0, 0)
    size_after: tuple[int, int] = (0, 0)
    commit: CommitInfo | None = None
    diff: str = ""
    model_calls: int = 0
    model_tokens: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.consolidated or self.updated or self.deleted)

    def counts(self) -> str:
        return (f"{len(self.consolidated)} consolidated, {len(self.updated)} updated, {len(self.deleted)} deleted, "
                f"{len(self.skipped)} skipped")

    def commit_message(self) -> str:
        lines = [f"dream: {self.counts()} in MEMORY.md", ""]
        lines += [f"- {line}" for line in self.lines()]
        return "\n".join(lines)

    def lines(self) -> list[str]:
        out = [f"consolidated: kept {c.after!r}, merged {c.before!r}" for c in self.consolidated]
        out += [f"updated: {c.before!r} -> {c.after!r} ({c.why})" for c in self.updated]
        out += [f"deleted: {c.before!r} ({c.why})" for c in self.deleted]
        out += [f"skipped: {c.before!r} ({c.why})" for c in self.skipped]
        return out

    def text(self) -> str:
        """The review as the CLI prints it."""
        out = list(self.notes)
        (lines_before, bytes_before), (lines_after, bytes_after) = self.size_before, self.size_after
        if not self.changed:
            out.append(f"dream: nothing to do; MEMORY.md is already consolidated ({lines_before} lines, "
                       f"{bytes_before} bytes), no commit made")
            out += [f"  skipped: {c.before}  ({c.why})" for c in self.skipped]
            return "\n".join(out)
        out.append(f"dream: {self.counts()}")
        for title, changes in (("consolidated", self.consolidated), ("updated", self.updated),
                               ("deleted", self.deleted), ("skipped", self.skipped)):
            if changes:
                out.append(f"{title}:")
            for c in changes:
                if title == "consolidated":
                    out.append(f"  kept    {c.after}\n  merged  {c.before}")
                elif title == "updated":
                    out.append(f"  was  {c.before}\n  now  {c.after}  ({c.why})")
                else:
                    out.append(f"  {c.before}  ({c.why})")
        out.append(f"MEMORY.md: {lines_before} -> {lines_after} lines, {bytes_before} -> {bytes_after} bytes")
        if self.commit is not None:
            out.append(f"committed {self.commit.short} as dream; undo with `mimo memory revert {self.commit.short}`")
        return "\n".join(out)
