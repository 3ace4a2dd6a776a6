"""The single write path of memory and skill files: atomic write, git commit, change event."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath

from mimo_tui.atomic_file import atomic_write
from mimo_tui.store import worktree_snapshot
from mimo_tui.store.git_runner import GitRunner
from mimo_tui.store.index_lock import is_index_lock_busy, live_owner, remove_if_stale
from mimo_tui.store.secret_guard import check_commit, unstage_secrets
from mimo_tui.store.records import (
    EXTERNAL,
    USER,
    CommitInfo,
    ConflictError,
    FileChanged,
    FileSnapshot,
    RepoDamaged,
    RevertConflict,
    SandboxError,
    StoreError,
    Writer,
    WriteFailed,
    only_adds_lines,
)
from mimo_tui.store.repo_guard import damaged, index_problem
from mimo_tui.store.repo_lock import LOCK_NAME, lock_for

log = logging.getLogger(__name__)

ABSENT = "absent"
MAINTAIN_EVERY = 200
# How long a commit waits for a live outside git process to release the repo's index.lock.
INDEX_LOCK_WAIT_S = 10.0
_FIELD = "\x1f"
_RECORD = "\x1e"


def digest_of(data: bytes | None) -> str:
    return ABSENT if data is None else hashlib.sha1(data).hexdigest()


def _subject(message: str) -> str:
    """What git shows as a message's subject (`%s`): its first paragraph on one line."""
    lines = []
    for line in message.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else ""


class VersionedStore:
    """Reads and writes files of one memory repo; every change is a commit and a published event."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git = GitRunner(root)
        self._lock = lock_for(root)
        self.index_lock_wait_s = INDEX_LOCK_WAIT_S
        self._subscribers: list[Callable[[FileChanged], None]] = []
        self.refusals: list[str] = []
        self.recovery_notes: list[str] = []
        self._commits_since_maintenance = 0

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the repo's write lock (all threads and mimo processes) across a read-modify-write of its files."""
        return self._lock.hold()

    # -- events -----------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[FileChanged], None]) -> Callable[[], None]:
        """Call `callback` after each committed change; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _publish(self, event: FileChanged) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a broken subscriber must not undo a committed write
                log.exception("store subscriber failed for %s", event.relpath)

    # -- paths --------------------------------------------------------------------------------
    def relpath(self, path: str | Path) -> str:
        """A path inside the repo as a POSIX relative path; refuses anything that escapes it."""
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                candidate = candidate.resolve().relative_to(self.root.resolve())
            except ValueError as exc:
                raise StoreError(f"{path} is outside the memory repo {self.root}") from exc
        rel = PurePosixPath(candidate.as_posix())
        if rel.is_absolute() or ".." in rel.parts or not rel.parts or rel.parts[0] == ".git":
            raise StoreError(f"{path} is not a file of the memory repo")
        return str(rel)

    def path(self, relpath: str) -> Path:
        return self.root / self.relpath(relpath)

    # -- reading ------------------------------------------------------------------------------
    def read(self, relpath: str) -> FileSnapshot:
        rel = self.relpath(relpath)
        try:
            data = (self.root / rel).read_bytes()
        except FileNotFoundError:
            return FileSnapshot(rel, None, ABSENT, exists=False)
        except IsADirectoryError as exc:
            raise StoreError(f"{rel} is a folder, not a file") from exc
        except PermissionError as exc:
            raise StoreError(f"cannot read {self.root / rel}: permission denied") from exc
        text: str | None
        if b"\x00" in data[:8192]:
            text = None
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        return FileSnapshot(rel, text, digest_of(data), exists=True, size=len(data))

    def list_files(self, skip_dirs: tuple[str, ...] = (".git", "cache", "runs")) -> list[str]:
        """Relative paths of the repo's files, without git data, caches and derived databases."""
        found: list[str] = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not (folder == str(self.root) and d in skip_dirs) and not d.startswith(".git"))
            for name in sorted(files):
                if name.endswith((".db", ".db-wal", ".db-shm", ".db-journal", ".tmp")) or name == LOCK_NAME:
                    continue
                found.append(str(PurePosixPath(Path(folder, name).relative_to(self.root).as_posix())))
        return found

    # -- writing ------------------------------------------------------------------------------
    def write(
        self,
        relpath: str,
        text: str,
        writer: Writer = USER,
        message: str | None = None,
        base_digest: str | None = None,
    ) -> CommitInfo | None:
        """Write `text` atomically and commit it; None when the content did not change.

        With `base_digest` (from an earlier `read`) the write is refused if the file changed since.
        """
        rel = self.relpath(relpath)
        adding_only = not writer.may_write(rel) and writer.may_add_lines_to(rel)
        if not adding_only:
            self._check_sandbox(writer, rel)
        data = text.encode("utf-8")
        check_commit(rel, data)
        with self._lock.hold():
            current = self.read(rel)
            if adding_only and not only_adds_lines(current.text or "", text):
                self._refuse(writer, rel, "it may only add lines to it")
            if base_digest is not None and current.digest != base_digest:
                raise ConflictError(rel, current)
            if current.digest == digest_of(data):
                return None
            before = self._bytes_of(rel)
            try:
                atomic_write(self.root / rel, data)
            except PermissionError as exc:
                raise StoreError(f"cannot write {self.root / rel}: permission denied (read-only folder?)") from exc
            except OSError as exc:
                raise StoreError(f"cannot write {self.root / rel}: {exc.strerror or exc}") from exc
            verb = "created" if not current.exists else "updated"
            info = self._commit_or_undo(rel, before, writer, message or f"memory: {writer.role} {verb} {rel}",
                                        add=not current.exists)
            self._after_commit(info)
        if info:
            self._publish(FileChanged(rel, info.sha, writer.role, info.message))
        return info

    def write_files(self, files: dict[str, str], writer: Writer, message: str) -> CommitInfo | None:
        """Write several files and commit them as one commit (a multi-file skill's adoption); None when nothing
        changed. On a failed commit every file is put back as it was."""
        rels = {self.relpath(path): text.encode("utf-8") for path, text in files.items()}
        for rel, data in rels.items():
            self._check_sandbox(writer, rel)
            check_commit(rel, data)
        with self._lock.hold():
            changed = {rel: data for rel, data in rels.items() if self.read(rel).digest != digest_of(data)}
            if not changed:
                return None
            before = {rel: self._bytes_of(rel) for rel in changed}
            head_before = self._head_sha_or_none()
            try:
                for rel, data in changed.items():
                    atomic_write(self.root / rel, data)
                info = self._commit(sorted(changed), writer, message, add=True)
            except (OSError, StoreError) as exc:
                if self._head_sha_or_none() != head_before:
                    raise
                undone = "; ".join(self._undo(rel, data) for rel, data in before.items())
                raise WriteFailed(f"could not commit {', '.join(sorted(changed))} in {self.root}: {exc}; {undone}") from exc
            self._after_commit(info)
        for rel in sorted(changed):
            if info:
                self._publish(FileChanged(rel, info.sha, writer.role, info.message))
        return info

    def delete(self, relpath: str, writer: Writer = USER, message: str | None = None) -> CommitInfo | None:
        rel = self.relpath(relpath)
        self._check_sandbox(writer, rel)
        with self._lock.hold():
            target = self.root / rel
            if not target.exists():
                return None
            before = self._bytes_of(rel)
            target.unlink()
            info = self._commit_or_undo(rel, before, writer, message or f"memory: {writer.role} deleted {rel}", add=True)
            self._after_commit(info)
        if info:
            self._publish(FileChanged(rel, info.sha, writer.role, info.message, deleted=True))
        return info

    def _check_sandbox(self, writer: Writer, rel: str) -> None:
        if not writer.may_write(rel):
            self._refuse(writer, rel, "outside its write sandbox")

    def _refuse(self, writer: Writer, rel: str, why: str) -> None:
        note = f"refused: {writer.role} may not write {rel}"
        self.refusals.append(note)
        log.warning(note)
        raise SandboxError(f"{writer.role} may not write {rel} ({why})")

    def _commit(self, rels: list[str], writer: Writer, message: str, add: bool) -> CommitInfo | None:
        """One `git commit -- paths` process; the CommitInfo is built from what we passed, not a `git log`."""
        when = int(time.time())
        # Passing the date lets us return the commit without asking git; a fixed GIT_AUTHOR_DATE still wins.
        date = () if "GIT_AUTHOR_DATE" in os.environ else (f"--date=@{when} {time.strftime('%z', time.localtime(when))}",)
        commit = ("commit", "-q", "--no-verify", f"--author={writer.role} <{writer.role}@mimo>",
                  *date, "-m", message, "--", *rels)
        self._ensure_index_sound()
        if add:
            self._checked(self._git_write("add", "-A", "--", *rels))
        proc = self._git_write(*commit)
        if not add and proc.returncode != 0 and "did not match" in proc.stderr:
            self._checked(self._git_write("add", "-A", "--", *rels))
            proc = self._git_write(*commit)
        if proc.returncode != 0:
            text = (proc.stdout + proc.stderr).strip()
            if "nothing to commit" in text or "no changes added" in text:
                return None
            raise StoreError(f"git commit failed: {_last_line(text) or f'exit status {proc.returncode} (a commit hook may have refused it)'}")
        return CommitInfo(self._head_sha(), writer.role, when, _subject(message))

    def _commit_or_undo(self, rel: str, before: bytes | None, writer: Writer, message: str, add: bool) -> CommitInfo | None:
        """Commit `rel`; when that fails, put the file back as it was so the error the caller reports matches disk."""
        head_before = self._head_sha_or_none()
        try:
            return self._commit([rel], writer, message, add=add)
        except StoreError as exc:
            if self._head_sha_or_none() != head_before:  # git failed after the commit itself was made
                return CommitInfo(self._head_sha(), writer.role, int(time.time()), _subject(message))
            undone = self._undo(rel, before)
            raise WriteFailed(f"could not commit {rel} in the memory repo {self.root}: {exc}; {undone}") from exc

    def _undo(self, rel: str, before: bytes | None) -> str:
        """Restore `rel` byte for byte (or remove it when it was new) and unstage it; says what disk now holds."""
        try:
            if before is None:
                (self.root / rel).unlink(missing_ok=True)
            else:
                atomic_write(self.root / rel, before)
        except OSError as exc:
            return f"the change could not be undone either ({exc.strerror or exc}): {rel} holds the new text, uncommitted"
        try:
            self._git_write("reset", "-q", "--", rel)
        except StoreError:
            pass  # the file is restored; a stale staged entry is overwritten by the next commit of this path
        return f"nothing was written: {rel} is as it was" if before is not None else f"nothing was written: {rel} was not created"

    def _bytes_of(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {self.root / rel}: {exc.strerror or exc}") from exc

    def _after_commit(self, info: CommitInfo | None) -> None:
        if info is None:
            return
        self._commits_since_maintenance += 1
        if self._commits_since_maintenance >= MAINTAIN_EVERY:
            try:
                self.maintain()
            except StoreError as exc:  # packing is housekeeping; the commit stands
                log.warning("git maintenance failed in %s: %s", self.root, exc)

    def _git_write(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A git command that takes index.lock: waits with backoff while a live process holds it, clears a stale one.

        Call it holding the repo's write lock: then no other mimo process is using git here, so an
        index.lock is an outside git's (alive: wait up to `index_lock_wait_s`) or a dead process's (removed).
        """
        deadline = time.monotonic() + self.index_lock_wait_s
        delay = 0.02
        while True:
            proc = self.git.run(*args, check=False)
            if proc.returncode == 0 or not is_index_lock_busy(proc.stderr):
                return proc
            if remove_if_stale(self.root):
                self.recovery_notes.append(f"removed a git index.lock left behind by a process that is gone, in {self.root}")
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                owner = live_owner(self.root) or "another git process"
                raise StoreError(
                    f"the memory repo's git index is in use by {owner}, which did not finish within "
                    f"{self.index_lock_wait_s:.0f} s; try again once it has"
                )
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.5)

    def _checked(self, proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
        if proc.returncode != 0:
            raise StoreError(f"git failed: {_last_line(proc.stderr + proc.stdout) or proc.returncode}")
        return proc

    def _ensure_index_sound(self) -> None:
        """Refuse to commit from a corrupt index: git may read a truncated one and commit what it made of it."""
        problem = index_problem(self.git.git_dir)
        if problem is not None:
            raise damaged(self.root, problem)

    def _head_sha_or_none(self) -> str | None:
        try:
            return self._head_sha()
        except StoreError:
            return None

    def _head_sha(self) -> str:
        """HEAD's commit id, read from the ref file git just wrote; `git rev-parse` when that is not plain."""
        git_dir = self.git.git_dir
        try:
            head = (git_dir / "HEAD").read_text(encoding="ascii").strip()
            if head.startswith("ref: "):
                head = (git_dir / head[5:]).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            head = ""
        if len(head) in (40, 64) and all(c in "0123456789abcdef" for c in head):
            return head
        return self.git.out("rev-parse", "--verify", "HEAD").strip()

    def maintain(self) -> None:
        """Let git pack loose objects when enough have piled up (it detaches when there is work)."""
        self._commits_since_maintenance = 0
        self.git.run("maintenance", "run", "--auto", "--quiet", check=False)

    def commit_external(self, warn: Callable[[str], None] | None = None) -> list[FileChanged]:
        """Commit whatever changed on disk outside the app, as the `external` author (never a literal secret: `warn`)."""
        with self._lock.hold():
            self._ensure_index_sound()
            status = self.git.out("status", "--porcelain", "-z", "--untracked-files=all")
            if not status:
                return []
            changed: list[tuple[str, bool]] = []
            entries = status.split("\0")
            i = 0
            while i < len(entries):
                entry = entries[i]
                i += 1
                if len(entry) < 4:
                    continue
                code, rel = entry[:2], entry[3:]
                if code[0] in "RC":
                    i += 1  # the source path of a rename follows
                changed.append((rel, "D" in code))
            self._checked(self._git_write("add", "-A"))
            refused = unstage_secrets(self.git, self.root, warn, [rel for rel, deleted in changed if not deleted])
            changed = [(rel, deleted) for rel, deleted in changed if rel not in refused]
            if not changed:
                return []
            names = ", ".join(rel for rel, _ in changed[:5]) + (" ..." if len(changed) > 5 else "")
            message = f"memory: external edit of {names}"
            proc = self._git_write("commit", "-q", "--no-verify", "--author=external <external@mimo>", "-m", message)
            if proc.returncode != 0:
                self._git_write("reset", "-q")  # unstage, so the index matches HEAD again; the edits stay on disk
                text = (proc.stdout + proc.stderr).strip()
                if "nothing to commit" in text or "no changes added" in text:
                    return []
                raise StoreError(f"could not commit an outside edit of {names} in {self.root}: {_last_line(text)}")
            info = self.head()
        events = [FileChanged(rel, info.sha, EXTERNAL.role, message, deleted=deleted) for rel, deleted in changed]
        for event in events:
            self._publish(event)
        return events

    # -- history ------------------------------------------------------------------------------
    def head(self) -> CommitInfo:
        return self.log(limit=1)[0]

    def log(self, relpath: str | None = None, limit: int = 200) -> list[CommitInfo]:
        args = ["log", f"-n{limit}", f"--format=%H{_FIELD}%an{_FIELD}%at{_FIELD}%s{_RECORD}"]
        if relpath:
            args += ["--", self.relpath(relpath)]
        out = self.git.run(*args, check=False)
        if out.returncode != 0:
            if "does not have any commits" in out.stderr:
                return []
            raise StoreError(f"cannot read the history of {self.root}: {out.stderr.strip()}")
        infos = []
        for record in out.stdout.split(_RECORD):
            fields = record.strip("\n").split(_FIELD)
            if len(fields) == 4:
                infos.append(CommitInfo(fields[0], fields[1], int(fields[2]), fields[3]))
        return infos

    def resolve(self, rev: str) -> str:
        proc = self.git.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if proc.returncode != 0:
            named = self.git.run("rev-parse", "--verify", "--quiet", rev, check=False).stdout.strip()
            if named and self.git.run("cat-file", "-e", named, check=False).returncode != 0:
                raise damaged(self.root, f"missing the object {named[:12]} that {rev} names")
            raise StoreError(f"no commit {rev!r} in the memory repo")
        return proc.stdout.strip()

    def show(self, rev: str) -> str:
        """The commit's header, message, stat and patch."""
        return self.git.out("show", "--stat", "--patch", "--format=fuller", self.resolve(rev))

    def diff(self, rev: str, relpath: str | None = None) -> str:
        """The change a commit introduced (optionally limited to one file)."""
        args = ["show", "--format=", "--patch", self.resolve(rev)]
        if relpath:
            args += ["--", self.relpath(relpath)]
        return self.git.out(*args)

    def diff_text(self, relpath: str, new_text: str) -> str:
        """A unified diff from the committed file to `new_text` (for previews and conflicts)."""
        import difflib

        current = self.read(relpath)
        old = (current.text or "").splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new_text.splitlines(keepends=True), f"a/{relpath}", f"b/{relpath}"))

    def files_of(self, rev: str) -> list[str]:
        out = self.git.out("diff-tree", "--no-commit-id", "--name-only", "-r", "--root", self.resolve(rev))
        return [line for line in out.splitlines() if line]

    def revert(self, rev: str, writer: Writer = USER) -> CommitInfo:
        """Undo a commit with a new commit; a conflicting revert is aborted and nothing changes."""
        with self._lock.hold():
            self._ensure_index_sound()
            sha = self.resolve(rev)
            subject = self.git.out("log", "-1", "--format=%s", sha).strip()
            before = worktree_snapshot.snapshot(self.root, self.files_of(sha))
            proc = self._git_write("revert", "--no-commit", sha)
            if proc.returncode != 0:
                self._git_write("revert", "--abort")
                self._git_write("reset", "--merge")
                worktree_snapshot.restore(self.root, before)  # when git could not undo it (a full disk)
                detail = (proc.stderr or proc.stdout).strip()
                if "conflict" in detail.lower():
                    raise RevertConflict(
                        f"reverting {sha[:8]} conflicts with later edits of {', '.join(self.files_of(sha))}; "
                        "the revert was aborted and the files are as they were"
                    )
                raise StoreError(f"cannot revert {sha[:8]}: {detail.splitlines()[-1] if detail else 'git failed'}")
            message = f'revert: "{subject}" ({sha[:8]})'
            done = self._git_write("commit", "-q", "--no-verify", f"--author={writer.role} <{writer.role}@mimo>", "-m", message)
            if done.returncode != 0:
                self._git_write("reset", "--merge")
                worktree_snapshot.restore(self.root, before)
                text = (done.stdout + done.stderr).strip()
                if "nothing to commit" in text or "no changes added" in text:
                    raise StoreError(f"reverting {sha[:8]} changes nothing now")
                raise WriteFailed(f"cannot revert {sha[:8]}: git commit failed ({_last_line(text)}); the files are as they were")
            info = self.head()
            files = self.files_of(info.sha)
        for rel in files:
            self._publish(FileChanged(rel, info.sha, writer.role, message, deleted=not (self.root / rel).exists()))
        return info

    # -- health ---------------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Clear what a crash left behind (an index.lock whose owner is gone, a half-done revert); says what was done.

        Skipped when the repo cannot be locked (a read-only folder): reading still works, writing is refused later.
        """
        notes: list[str] = []
        git_dir = self.root / ".git"
        if not any((git_dir / name).exists() for name in ("index.lock", "REVERT_HEAD", "CHERRY_PICK_HEAD", "MERGE_HEAD")):
            return notes
        try:
            with self._lock.hold(wait_s=5.0):
                if remove_if_stale(self.root):
                    notes.append(f"removed a git index.lock left behind by a process that is gone: {git_dir / 'index.lock'}")
                for marker, command in (("REVERT_HEAD", "revert"), ("CHERRY_PICK_HEAD", "cherry-pick"), ("MERGE_HEAD", "merge")):
                    if (git_dir / marker).exists():
                        self._git_write(command, "--abort")
                        self._git_write("reset", "--merge")
                        notes.append(f"aborted a half-finished git {command} left by a crash")
        except RepoDamaged:
            raise
        except StoreError as exc:
            log.warning("could not clean up the memory repo %s: %s", self.root, exc)
        return notes

    def check_health(self) -> None:
        """Raise RepoDamaged with a way out when the repo's git data is unusable."""
        proc = self.git.run("rev-parse", "--verify", "--quiet", "HEAD", check=False)
        if proc.returncode != 0:
            reason = _last_line(proc.stderr) or "HEAD does not point at a commit"
            raise damaged(self.root, f"damaged ({reason})")
