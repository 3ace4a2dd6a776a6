"""Memory layers: templates, validators, the FTS5 index, history search, context assembly and the agent's surface.

Entry points (all UI-free, safe to call from a worker thread):
- `memory.index.MemoryIndex` / `memory.roots.open_memory_index(project)`: `search()` -> `MemoryHit`s, `reconcile()`, `rebuild()`.
- `memory.validators.validate_repo(folder, root)` / `validate_file(relpath, text)` -> `Problem`s.
- `memory.context.ContextAssembler(...).build(session_id, window)` -> `ContextBlock` of `MemoryBlock`s.
- `memory.history_index.HistoryIndex(state_db)`: `add()` per stored message, `search()`.
- `memory.surface.MemorySurface(project)`: search, read_section, append, add_note (each write one commit).
"""
