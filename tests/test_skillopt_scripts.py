"""A skill's scripts run for the target during a rollout: in a copy of the version's files, with a timeout."""

from __future__ import annotations

import re
import time

from mimo_tui.skillopt.script_runner import run_script
from mimo_tui.skillopt.skill_files import pack
from tests.fixtures.skillopt_project import TrainerProject

ISO = '''import re, sys
text = sys.stdin.read()
m = re.search(r"(\\d{1,2})/(\\d{1,2})/(\\d{4})", text)
print(f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}" if m else open("references/none.txt").read().strip())
'''
SKILL = ("---\nname: date-normalizer\ndescription: d\n---\n\n# Dates\n\n"
         "Run scripts/iso.py with the task text as standard input and answer with what it prints.\n")


async def test_the_target_runs_the_skills_script_and_answers_with_its_output(trainer_project: TrainerProject) -> None:
    prepared = trainer_project.start(trainer_project.config())
    files = {"SKILL.md": SKILL, "scripts/iso.py": ISO, "references/none.txt": "no date found\n"}
    tasks = [t for t in prepared.trainer.splits.val if re.search(r"\d/\d{1,2}/\d{4}", t.input)][:3]
    assert len(tasks) == 3
    scores, trajectories = await prepared.trainer.rollout(pack(files), tasks, "val")
    assert all(s == [1.0] for s in scores.values()), [(t.input, t.output) for t in trajectories]
    # the same rollout without the script: the target falls back to reading the (rule-less) skill
    scores, _ = await prepared.trainer.rollout(pack({**files, "scripts/iso.py": "import sys; sys.exit(3)\n"}), tasks, "val")
    assert all(s == [0.0] for s in scores.values())


async def test_a_script_is_stopped_at_its_timeout_and_paths_outside_are_refused() -> None:
    files = {"SKILL.md": SKILL, "scripts/slow.py": "import time\ntime.sleep(30)\n", "scripts/env.sh": "echo $HOME; cat references/a.md\n",
             "references/a.md": "from the version\n"}
    started = time.monotonic()
    assert (await run_script(files, {"path": "scripts/slow.py"}, 0.5)).startswith("timed out after 0.5 s")
    assert time.monotonic() - started < 5
    answer = await run_script(files, {"path": "scripts/env.sh"}, 5)
    assert answer.startswith("exit 0\n/tmp") and answer.endswith("from the version\n")
    assert (await run_script(files, {"path": "../../etc/passwd"}, 5)).startswith("refused: '../../etc/passwd' is outside")
    assert (await run_script(files, {"path": "references/a.md"}, 5)).startswith("refused: references/a.md is not a script")
