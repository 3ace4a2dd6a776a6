"""Staged adoption: a run proposes, the user adopts (one commit by skillopt), adopts some edits, or discards."""

from __future__ import annotations

import hashlib
import json

import pytest

from mimo_tui.skillopt.adoption import adopt, discard
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.events import SlowUpdate
from mimo_tui.skillopt.session import skill_relpath
from mimo_tui.skillopt.staging import StagingError, diff_against_live, load_proposal, version_edits, version_files
from mimo_tui.store import USER
from tests.fixtures.skillopt_project import DEMO, TrainerProject

NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)


def _commit_live(tp: TrainerProject) -> str:
    """The user's own copy of the demo in the memory repo, as the acceptance floor sets it up."""
    text = (tp.entry.folder / "SKILL.md").read_text()
    tp.project.store.write(skill_relpath(DEMO), text, USER, message="user: project copy")
    return text


async def _train(tp: TrainerProject, seen: list | None = None, **config):
    prepared = tp.start(tp.config(**config), seen.append if seen is not None else None)
    summary = await prepared.trainer.run(NO_ESTIMATE)
    return prepared, summary


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


async def test_training_leaves_the_live_skill_alone_and_writes_a_proposal(trainer_project: TrainerProject) -> None:
    # What was seen: a run committed every accepted step and the slow update into the live SKILL.md, including a
    # "Review of the last epoch..." line no gate had checked, which the agent was then served.
    live = _commit_live(trainer_project)
    store = trainer_project.project.store
    before = [c.sha for c in store.log(skill_relpath(DEMO))]
    seen: list[object] = []
    prepared, summary = await _train(trainer_project, seen, epochs=2)
    assert summary["completed"] and summary["accepted_steps"]
    assert store.read(skill_relpath(DEMO)).text == live
    assert [c.sha for c in store.log(skill_relpath(DEMO))] == before
    assert "Review of the last epoch" not in store.read(skill_relpath(DEMO)).text
    proposal = json.loads((prepared.run.path / "proposal.json").read_text())
    assert proposal["baseline"]["version"] == 1 and proposal["best"]["version"] >= 2
    assert proposal["best"]["val"] > proposal["baseline"]["val"] and proposal["best"]["test"] is not None
    assert proposal["versions"][str(proposal["best"]["version"])]["files"]["SKILL.md"].startswith("skills/skill_v")
    assert proposal["edits"]["best"] and all("credit" in e for e in proposal["edits"]["best"])
    assert proposal["spent"]["calls"] > 0
    # The slow update's guidance is a candidate the gate judged (a gate record beside it), never written unseen.
    slow = [e for e in seen if isinstance(e, SlowUpdate)]
    assert slow and all(e.action in ("accept", "reject", "undecided") and e.reason for e in slow)
    assert (prepared.run.path / "slow_updates/epoch_0001/gate.json").exists()
    for event in slow:
        text = prepared.run.read_skill_version(event.version)
        assert (event.guidance in text) == (event.action == "accept")


async def test_adopting_is_one_commit_by_skillopt_and_a_revert_restores_the_bytes(trainer_project: TrainerProject) -> None:
    live = _commit_live(trainer_project)
    store = trainer_project.project.store
    prepared, summary = await _train(trainer_project)
    count = len(store.log())
    result = adopt(store, prepared.run.path)
    assert result.commit and len(store.log()) == count + 1
    head = store.head()
    assert head.author == "skillopt" and prepared.run.run_id in head.message and f"v{result.version:04d}" in head.message
    assert store.files_of(head.sha) == [skill_relpath(DEMO)]
    assert store.read(skill_relpath(DEMO)).text == version_files(prepared.run.path, result.version)["SKILL.md"]
    assert load_proposal(prepared.run.path)["adoption"]["commit"] == result.commit
    store.revert(result.commit)
    assert _sha(store.path(skill_relpath(DEMO)).read_bytes()) == _sha(live)


async def test_adopting_some_edits_replays_only_those(trainer_project: TrainerProject) -> None:
    _commit_live(trainer_project)
    store = trainer_project.project.store
    prepared, _ = await _train(trainer_project)
    edits = version_edits(prepared.run.path, load_proposal(prepared.run.path)["best"]["version"])
    assert len(edits) >= 2
    adopt(store, prepared.run.path, "best", [1])
    text = store.read(skill_relpath(DEMO)).text
    assert edits[0]["text"] in text and not any(e["text"] in text for e in edits[1:])
    assert "edits 1" in store.head().message
    with pytest.raises(StagingError, match="has no edit 99"):
        adopt(store, prepared.run.path, "best", [99])


async def test_a_conflicting_live_change_refuses_and_names_the_file(trainer_project: TrainerProject) -> None:
    live = _commit_live(trainer_project)
    store = trainer_project.project.store
    prepared, _ = await _train(trainer_project)
    # A change elsewhere in the file merges cleanly: the hand-written note stays, the version's lines come in.
    store.write(skill_relpath(DEMO), live.replace("# Date normalizer", "# Date normalizer (ours)"), USER, message="user: title")
    merged = adopt(store, prepared.run.path)
    text = store.read(skill_relpath(DEMO)).text
    assert "# Date normalizer (ours)" in text and "<!-- mimo:managed -->" in text
    store.revert(merged.commit)
    # A change to the very lines the version changes (the end of the file) conflicts: refused, nothing committed.
    store.write(skill_relpath(DEMO), live + "A last line of my own.\n", USER, message="user: tail")
    count = len(store.log())
    with pytest.raises(StagingError, match=r"skills/date-normalizer/SKILL\.md changed since run"):
        adopt(store, prepared.run.path)
    assert len(store.log()) == count and store.read(skill_relpath(DEMO)).text.endswith("A last line of my own.\n")


async def test_discard_marks_the_run_and_leaves_the_skill(trainer_project: TrainerProject) -> None:
    live = _commit_live(trainer_project)
    prepared, _ = await _train(trainer_project)
    assert diff_against_live(prepared.run.path, trainer_project.project.store, 2).startswith("--- live/SKILL.md")
    discard(prepared.run.path)
    assert load_proposal(prepared.run.path)["adoption"]["status"] == "discarded"
    assert trainer_project.project.store.read(skill_relpath(DEMO)).text == live


async def test_an_old_run_without_a_proposal_still_resumes_and_can_be_adopted(trainer_project: TrainerProject) -> None:
    _commit_live(trainer_project)
    first = trainer_project.start(trainer_project.config(max_calls=60))
    stopped = await first.trainer.run(NO_ESTIMATE)
    assert not stopped["completed"]
    for name in ("proposal.json", "baseline.json"):  # as a run from before staging left its folder
        (first.run.path / name).unlink()
    resumed = trainer_project.resume(first.run.path)
    resumed.trainer.config.max_calls = None
    resumed.trainer.cap.max_calls = None
    summary = await resumed.trainer.run(NO_ESTIMATE, resumed=True)
    assert summary["completed"]
    result = adopt(trainer_project.project.store, first.run.path, "final")
    assert result.commit and trainer_project.project.store.head().author == "skillopt"


async def test_the_services_layer_offers_the_proposal_to_the_ui(trainer_project: TrainerProject) -> None:
    from mimo_tui.services import Services

    live = _commit_live(trainer_project)
    prepared, _ = await _train(trainer_project)
    services = Services()
    services.use_project(trainer_project.project)
    run_id = prepared.run.run_id
    proposal = services.run_proposal(run_id)
    best = proposal["best"]["version"]
    assert services.run_version_files(run_id, 1)["SKILL.md"] == live
    assert services.run_diff(run_id, 1, best).startswith("--- v1/SKILL.md")
    assert services.run_diff_live(run_id, best).startswith("--- live/SKILL.md")
    assert [e["n"] for e in services.run_version_edits(run_id, best)][:1] == [1]
    branch = services.branch_run(run_id, 1, {"edit_budget": 1})
    assert (services.runs_dir / branch / "runtime_state.json").exists()
    result = services.adopt_run(run_id, "best", [1])
    assert result.commit and services.run_proposal(run_id)["adoption"]["edits"] == [1]
    services.discard_run(branch)
    assert services.run_proposal(branch)["adoption"]["status"] == "discarded"


async def test_the_noise_test_warns_when_the_other_skills_pull_the_score_down(trainer_project: TrainerProject) -> None:
    from mimo_tui.llm import OfflineReply, register_offline_model
    from mimo_tui.skillopt.noise import noise_test
    from mimo_tui.skillopt.offline_models import _target
    from mimo_tui.skillopt.prompts import OTHERS_HEADING

    _commit_live(trainer_project)
    prepared, _ = await _train(trainer_project)
    best = load_proposal(prepared.run.path)["best"]["version"]
    project = trainer_project.project
    other = project.workspace.mimo_dir / "skills" / "us-invoices"
    other.mkdir(parents=True)
    (other / "SKILL.md").write_text(
        "---\nname: us-invoices\ndescription: Read US invoices; their dates put the month first.\n---\n\nBody.\n")

    def distracted(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        """Follows the skill, except that a listed US skill makes it read slashed dates month first."""
        reply = _target(messages, tools, params)
        if OTHERS_HEADING in messages[0]["content"] and "month first" in messages[0]["content"] and "/" in messages[-1]["content"]:
            return OfflineReply(text="1999-01-01")
        return reply

    register_offline_model("distracted-target", distracted)
    config = json.loads((prepared.run.path / "config.json").read_text())
    (prepared.run.path / "config.json").write_text(json.dumps({**config, "target": "offline/distracted-target"}))
    report = await noise_test(prepared.run.path, best, project.root, project.workspace.mimo_dir, {},
                              trainer_project.gateway_factory())
    assert report.others == ["us-invoices"] and report.alone > report.beside
    assert report.warning and "regressed: val-" in report.warning and set(report.changed.values()) == {"regressed"}
    (prepared.run.path / "config.json").write_text(json.dumps(config))
    calm = await noise_test(prepared.run.path, best, project.root, project.workspace.mimo_dir, {},
                            trainer_project.gateway_factory())
    assert calm.warning is None and calm.alone == calm.beside


def test_adopt_and_discard_from_the_shell(project_dir, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    from mimo_tui.cli import main
    from mimo_tui.skills import app_skills_dir

    live = project_dir / ".mimo" / skill_relpath(DEMO)
    live.parent.mkdir(parents=True)
    live.write_bytes((app_skills_dir() / DEMO / "SKILL.md").read_bytes())
    git = ["git", "-C", str(project_dir / ".mimo"), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "add", "--", skill_relpath(DEMO)], check=True)
    subprocess.run([*git, "commit", "-qm", "user: copy"], check=True)
    before = live.read_bytes()
    assert main(["skill", "train", DEMO, "--epochs", "1"]) == 0 and live.read_bytes() == before
    run = next((project_dir / ".mimo" / "runs").iterdir()).name
    capsys.readouterr()
    assert main(["skill", "adopt", run, "--edits", "99"]) == 2
    assert "has no edit 99" in capsys.readouterr().err
    assert main(["skill", "adopt", run]) == 0
    out = capsys.readouterr()
    assert f"of run {run}: commit" in out.out and "noise test: no other installed skills" in out.err
    head = subprocess.run([*git, "log", "-1", "--format=%an %s"], capture_output=True, text=True).stdout
    assert head.startswith(f"skillopt skillopt: adopt run {run} v0002")
    assert main(["memory", "revert", "HEAD"]) == 0 and live.read_bytes() == before
    assert main(["skill", "discard", run]) == 0
    capsys.readouterr()
    assert main(["skill", "runs"]) == 0 and "[discarded]" in capsys.readouterr().out


def test_adopting_a_run_that_is_still_running_is_refused(project_dir, capsys: pytest.CaptureFixture[str]) -> None:
    # What was seen: nothing stopped `mimo skill adopt` from committing a version of a run whose trainer was still
    # writing versions; process.json says the process is alive, so the CLI (and the services) now refuse, named.
    import json
    import socket
    import subprocess
    import sys

    from mimo_tui.cli import main
    from mimo_tui.services import Services
    from mimo_tui.project import Project

    assert main(["skill", "train", DEMO, "--epochs", "1"]) == 0
    run_dir = next((project_dir / ".mimo" / "runs").iterdir())
    live = project_dir / ".mimo" / skill_relpath(DEMO)
    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (run_dir / "process.json").write_text(json.dumps({"pid": trainer.pid, "host": socket.gethostname(),
                                                          "started": 0.0}))
        capsys.readouterr()
        assert main(["skill", "adopt", run_dir.name, "--no-noise-test"]) == 2
        err = capsys.readouterr().err
        assert f"run {run_dir.name} is still running" in err and "Traceback" not in err
        services = Services()
        services.use_project(Project.open(project_dir))
        with pytest.raises(StagingError, match="still running"):
            services.adopt_run(run_dir.name)
        assert not live.exists() and load_proposal(run_dir)["adoption"] is None
    finally:
        trainer.kill()
        trainer.wait()
    assert main(["skill", "adopt", run_dir.name, "--no-noise-test"]) == 0 and live.exists()


def test_a_candidate_is_given_from_the_shell_and_a_resume_judges_it(project_dir, capsys: pytest.CaptureFixture[str]) -> None:
    # The dashboard's `e`/`f` had no shell verb: `mimo skill steer RUN --file|--feedback` puts the candidate in the
    # run's inbox; a finished run judges it when resumed.
    from mimo_tui.cli import main
    from mimo_tui.skillopt.steering import pending_candidates, taken_candidates

    assert main(["skill", "train", DEMO, "--epochs", "1"]) == 0
    run_dir = next((project_dir / ".mimo" / "runs").iterdir())
    edited = project_dir / "edited.md"
    edited.write_text("---\nname: date-normalizer\ndescription: dates\n---\n\nAnswer with any date you like.\n")
    capsys.readouterr()
    assert main(["skill", "steer", run_dir.name, "--feedback", "  "]) == 2
    assert "the feedback is empty" in capsys.readouterr().err
    assert main(["skill", "steer", run_dir.name, "--file", str(project_dir / "missing.md")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["skill", "steer", run_dir.name, "--file", str(edited)]) == 0
    out = capsys.readouterr().out
    assert "a candidate by hand (edited" in out and f"--resume {run_dir.name}" in out
    assert len(pending_candidates(run_dir)[0]) == 1
    assert main(["skill", "train", "--resume", run_dir.name]) == 0
    assert pending_candidates(run_dir)[0] == [] and [c["outcome"]["action"] for c in taken_candidates(run_dir)] == ["reject"]
