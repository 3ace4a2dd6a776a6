"""The skill catalogue: discover, parse and load SKILL.md files."""

from mimo_tui.skills.catalogue import (
    Skill,
    SkillCatalogue,
    SkillProblem,
    app_skills_dir,
    load_catalogue,
    skill_problems,
    skill_roots,
)
from mimo_tui.skills.front_matter import FrontMatterError, parse_skill_file

__all__ = [
    "FrontMatterError", "Skill", "SkillCatalogue", "SkillProblem", "app_skills_dir", "load_catalogue",
    "parse_skill_file", "skill_problems", "skill_roots",
]
