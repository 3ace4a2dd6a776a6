"""One line under the panes: project, model (marked offline when it is) and mode."""

from __future__ import annotations

from textual.widgets import Static

from mimo_tui.project import Project


class StatusLine(Static):
    """Project, model and mode, always visible."""

    def on_mount(self) -> None:
        self.update("opening project…")

    def show_project(self, project: Project, model_override: str | None = None) -> None:
        model = model_override or project.config.get("model.default", "offline/agent")
        label = f"{model} (offline)" if model.startswith("offline/") else model
        self.update(f"[b]{project.root.name}[/b]  ·  model {label}  ·  mode {project.config.get('agent.mode', 'build')}")
