"""The memory pane: file tree, markdown editor, history, diff and revert of the memory repo."""

from __future__ import annotations

from collections.abc import Iterable

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static, TextArea, Tree

from mimo_tui.memory.validators import Problem
from mimo_tui.services import Services
from mimo_tui.memory.service import CommitInfo, ConflictError, FileSnapshot, RevertConflict, StoreError
from mimo_tui.ui.conflict_dialog import ConflictDialog
from mimo_tui.ui.file_tree import fill_file_tree
from mimo_tui.ui.memory_disk_change import DiskChangeBar
from mimo_tui.ui.memory_history import MemoryHistory
from mimo_tui.ui.memory_search import MemorySearch
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver
from mimo_tui.ui.messages import MemoryChanged, ProjectOpened


class MemoryPane(ShowsWorkerFailures, Horizontal):
    """Browse, edit and version the files of `.mimo/`; every save is a commit."""

    DEFAULT_CLASSES = "project-pane"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="memory.save"),
        Binding("ctrl+r", "reload", "Reload", id="memory.reload"),
        Binding("ctrl+f", "focus_search", "Search", id="memory.search"),
        Binding("ctrl+t", "context_preview", "Context", id="memory.context"),
        Binding("ctrl+g", "toggle_history", "History", id="memory.history"),
    ]

    def __init__(self, services: Services, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services = services
        self.relpath: str | None = None
        self.loaded: FileSnapshot | None = None
        self.diff_text = ""
        self._saved_text: str | None = None
        self.problems: dict[str, list[Problem]] = {}
        self._jump_line: int | None = None
        self._title_state = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="memory-left"):
            yield MemorySearch(id="memory-search")
            tree: Tree[str] = Tree(".mimo", id="memory-tree")
            tree.show_root = False
            yield tree
        with Vertical(id="memory-main"):
            yield Static("Select a memory file", id="memory-title")
            yield Static("", id="memory-problems")
            yield DiskChangeBar(id="memory-disk-change")
            yield TextArea.code_editor("", language="markdown", id="memory-editor", soft_wrap=True)
        with Vertical(id="memory-side"):
            yield Static("History  (r: revert)", classes="side-title")
            yield MemoryHistory(id="memory-history")
            yield Static("Diff", classes="side-title")
            with VerticalScroll(id="memory-diff-scroll"):
                yield Static("", id="memory-diff")

    def _ui(self, callback, *args, **kwargs) -> None:
        deliver(self, callback, *args, **kwargs)

    @property
    def editor(self) -> TextArea:
        return self.query_one("#memory-editor", TextArea)

    @property
    def dirty(self) -> bool:
        return self.loaded is not None and self.loaded.text is not None and self.editor.text != self.loaded.text

    # -- loading --------------------------------------------------------------------------------
    def on_project_opened(self, message: ProjectOpened) -> None:
        self.query_one(MemorySearch).attach(self.services.memory)
        self.refresh_files(select="MEMORY.md")

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-files")
    def refresh_files(self, select: str | None = None) -> None:
        memory = self.services.memory
        files = memory.files()
        problems = memory.problems()
        self._ui(self._show_files, files, problems, select)

    def _show_files(self, files: list[str], problems: dict[str, list[Problem]], select: str | None) -> None:
        self.problems = problems
        self._show_problems()

        def label(rel: str, name: str) -> Text:
            text, found = Text(name), problems.get(rel, [])
            if found:
                errors = any(p.severity == "error" for p in found)
                text.append(f" ⚠{len(found)}", style="bold red" if errors else "yellow")
            return text

        fill_file_tree(self.query_one("#memory-tree", Tree), files, label)
        if select and (self.relpath is None or select != self.relpath):
            self.open_file(select)

    @on(Tree.NodeSelected, "#memory-tree")
    def _tree_selected(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data:
            if self.dirty:
                self.notify(f"{self.relpath} has unsaved changes: save (ctrl+s) or reload (ctrl+r) first", severity="warning")
                return
            self.open_file(event.node.data)

    @on(MemorySearch.ResultsShown)
    def _widen_search(self, event: MemorySearch.ResultsShown) -> None:
        self.set_class(event.shown, "searching")

    @on(MemorySearch.Jump)
    def _jump(self, event: MemorySearch.Jump) -> None:
        self.remove_class("searching")
        if event.root != "project":
            self.notify(f"{event.relpath} is in the {event.root} memory repo; only project files open here", severity="warning")
            return
        if self.dirty and event.relpath != self.relpath:
            self.notify(f"{self.relpath} has unsaved changes: save (ctrl+s) or reload (ctrl+r) first", severity="warning")
            return
        self._jump_line = event.line
        if event.relpath == self.relpath:
            self._move_to_jump_line()
        else:
            self.open_file(event.relpath)

    def _move_to_jump_line(self) -> None:
        if self._jump_line is None:
            return
        line = max(0, min(self._jump_line - 1, self.editor.document.line_count - 1))
        self._jump_line = None
        self.editor.move_cursor((line, 0), center=True)
        self.editor.focus()

    def _show_problems(self) -> None:
        found = self.problems.get(self.relpath or "", [])
        widget = self.query_one("#memory-problems", Static)
        widget.display = bool(found)
        widget.update(Text("\n".join(f"{'✖' if p.severity == 'error' else '⚠'} line {p.line}: {p.message}" for p in found[:6])))

    def action_toggle_history(self) -> None:
        """On a narrow screen the history and diff take the editor's place until toggled back."""
        self.toggle_class("show-history")
        if self.has_class("show-history"):
            self.query_one(MemoryHistory).focus()
        else:
            self.editor.focus()

    def action_focus_search(self) -> None:
        self.query_one("#memory-search-input").focus()
        self.query_one(MemorySearch).open()

    def action_context_preview(self) -> None:
        if self.services.project is not None:
            self.build_preview(self.services.session_id)

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-preview")
    def build_preview(self, session_id: str | None) -> None:
        from mimo_tui.ui.context_preview import ContextPreview

        block = self.services.memory.preview(session_id or "none")
        label = f"session {session_id}" if session_id else "no session yet: project and global memory only"
        self._ui(self.app.push_screen, ContextPreview(block, label))

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-open")
    def open_file(self, relpath: str, discard_edits: bool = False) -> None:
        try:
            snapshot = self.services.memory.read(relpath)
            commits = self.services.memory.history(relpath, limit=200)
        except StoreError as exc:
            self._ui(self.notify, str(exc), severity="error")
            return
        self._ui(self._show_file, snapshot, commits, discard_edits)

    def _show_file(self, snapshot: FileSnapshot, commits: list[CommitInfo], discard_edits: bool = False) -> None:
        same_file = snapshot.relpath == self.relpath
        if same_file and not discard_edits and self.dirty and self.editor.text != snapshot.text:
            self._keep_typing(snapshot, commits)
            return
        self.relpath, self.loaded = snapshot.relpath, snapshot
        editor = self.editor
        if snapshot.is_binary:
            editor.load_text("")
            editor.read_only = True
            state = f"binary or not UTF-8 ({snapshot.size} bytes): not shown, not editable"
        elif not snapshot.exists:
            editor.load_text("")
            editor.read_only = False
            state = "deleted on disk"
        else:
            editor.read_only = False
            location = editor.cursor_location
            editor.language = "markdown" if snapshot.relpath.endswith(".md") else None
            editor.load_text(snapshot.text or "")
            editor.cursor_location = location if location[0] < editor.document.line_count else (0, 0)
            state = f"{len(commits)} commit(s)"
        self._title_state = state
        self._draw_title()
        self.query_one(DiskChangeBar).display = False
        self._show_problems()
        self._move_to_jump_line()
        self.query_one(MemoryHistory).show_commits(commits)
        if commits:
            self.show_diff(commits[0].sha)
        else:
            self.query_one("#memory-diff", Static).update("")

    def _keep_typing(self, snapshot: FileSnapshot, commits: list[CommitInfo]) -> None:
        """The user typed while a save or reload ran: keep their text, never load over it."""
        if snapshot.text == self._saved_text:
            self.loaded = snapshot  # our own save landed; it is the base of the next save
            self._draw_title()
        else:
            self._on_disk = snapshot
            author = commits[0].author if commits else "outside the app"
            self.query_one(DiskChangeBar).announce(snapshot.relpath, author)
        self.query_one(MemoryHistory).show_commits(commits)

    def _draw_title(self) -> None:
        if self.relpath is None:
            return
        text = Text.assemble((self.relpath, "bold"), f"  ·  {self._title_state}")
        if self.dirty:
            text.append("  ● unsaved (ctrl+s saves)", style="bold yellow")
        self.query_one("#memory-title", Static).update(text)

    @on(TextArea.Changed, "#memory-editor")
    def _edited(self) -> None:
        self._draw_title()

    @on(DiskChangeBar.Chosen)
    def _disk_change_answered(self, event: DiskChangeBar.Chosen) -> None:
        current = getattr(self, "_on_disk", None)
        if current is None or current.relpath != self.relpath:
            return
        if event.choice == "reload":
            self.open_file(current.relpath, discard_edits=True)
        elif event.choice == "keep":
            self.loaded = current  # the next save replaces the disk version, which the user has seen
            self._draw_title()
        elif event.choice == "diff":
            self._show_conflict_diff(current)

    # -- history and diff -----------------------------------------------------------------------
    @on(MemoryHistory.OptionHighlighted, "#memory-history")
    def _commit_highlighted(self, event: MemoryHistory.OptionHighlighted) -> None:
        if event.option.id:
            self.show_diff(event.option.id)

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-diff")
    def show_diff(self, sha: str) -> None:
        try:
            diff = self.services.memory.diff(sha, self.relpath)
        except StoreError as exc:
            diff = str(exc)
        self._ui(self._render_diff, diff or "(no change to this file)")

    def _render_diff(self, diff: str) -> None:
        self.diff_text = diff
        self.query_one("#memory-diff", Static).update(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True))

    @on(MemoryHistory.RevertRequested)
    def _revert_requested(self, event: MemoryHistory.RevertRequested) -> None:
        if self.dirty:
            self.notify("save or reload your edits before reverting", severity="warning")
            return
        self.revert(event.sha)

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-write")
    def revert(self, sha: str) -> None:
        try:
            info = self.services.memory.revert(sha)
        except RevertConflict as exc:
            self._ui(self.notify, str(exc), title="Revert refused", severity="error", timeout=15)
            return
        except StoreError as exc:
            self._ui(self.notify, str(exc), title="Revert failed", severity="error", timeout=15)
            return
        self._ui(self.notify, f"{info.short} {info.message}", title="Reverted")

    # -- saving ---------------------------------------------------------------------------------
    def action_save(self, overwrite: bool = False) -> None:
        if self.relpath is None or self.loaded is None or self.loaded.is_binary:
            return
        base = None if overwrite else self.loaded.digest
        self.save(self.relpath, self.editor.text, base)

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-write")
    def save(self, relpath: str, text: str, base_digest: str | None) -> None:
        self._saved_text = text
        try:
            info = self.services.memory.save(relpath, text, base_digest)
        except ConflictError as exc:
            self._ui(self._ask_conflict, exc.current)
            return
        except StoreError as exc:
            self._ui(self.notify, f"{exc}. Your text is still in the editor.", title="Not saved", severity="error", timeout=15)
            return
        if info is None:
            self._ui(self.notify, "no changes to save")
        else:
            self._ui(self.notify, f"{info.short} {info.message}", title="Saved")
        self.open_file(relpath)

    def _ask_conflict(self, current: FileSnapshot) -> None:
        def answered(answer: str | None) -> None:
            if answer == "reload":
                self.open_file(current.relpath, discard_edits=True)
            elif answer == "overwrite":
                self.action_save(overwrite=True)
            elif answer == "diff":
                self._show_conflict_diff(current)

        self.app.push_screen(ConflictDialog(current.relpath), answered)

    def _show_conflict_diff(self, current: FileSnapshot) -> None:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                (current.text or "").splitlines(keepends=True),
                self.editor.text.splitlines(keepends=True),
                f"on disk/{current.relpath}",
                f"your edit/{current.relpath}",
            )
        )
        self._render_diff(diff or "(no difference)")
        self.notify("diff: disk -> your edit. ctrl+s again to choose reload or overwrite.")

    def action_reload(self) -> None:
        if self.relpath:
            self.open_file(self.relpath, discard_edits=True)

    # -- outside changes ------------------------------------------------------------------------
    def on_memory_changed(self, message: MemoryChanged) -> None:
        change = message.change
        self.refresh_files()
        if change.relpath != self.relpath:
            return
        # While the user edits, open_file keeps their text and announces a change that is not their own save.
        self.open_file(change.relpath)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Memory: search", "Search memory files (full text and names)", self.action_focus_search)
        yield SystemCommand("Memory: context preview", "What would be injected into the model's context now", self.action_context_preview)
        yield SystemCommand("Memory: save file", "Save and commit the open memory file", self.action_save)
        yield SystemCommand("Memory: reload file", "Discard edits and reload from disk", self.action_reload)
        history = self.query_one(MemoryHistory)
        yield SystemCommand("Memory: revert selected commit", "Undo the highlighted commit with a new commit", history.action_revert)
