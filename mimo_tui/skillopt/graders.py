"""Graders: score a target output and write feedback the optimizer may see.

Every field of a grader spec is secret unless it is structural (type, function, tolerance ...) or listed in the
spec's own `public` list. On training items only, graders whose answer is the training signal (exact, normalised,
contains, numeric, JSON fields) say what was expected and what was given; regex patterns, rubrics and Python
graders' fields stay hidden on every split, and validation and test items never show anything."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import re
import string
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GRADER_TYPES = ("exact", "normalized", "contains", "regex", "numeric", "json_field", "python", "llm_judge")
_ALIASES = {"normalised": "normalized", "normalized_exact": "normalized", "normalised_exact": "normalized",
            "json": "json_field", "judge": "llm_judge"}
HIDDEN = "[hidden]"

# judge(rubric, task_input, output) -> the judge model's reply text
Judge = Callable[[str, str, str], Awaitable[str]]


class GraderError(Exception):
    """A grader spec is invalid or a grader function failed."""


@dataclass(frozen=True)
class Grade:
    """A score in [0, 1], whether it counts as passed, and feedback safe to show the optimizer."""

    score: float
    passed: bool
    feedback: str


def grader_type(spec: dict[str, Any]) -> str:
    raw = str(spec.get("type", "")).lower()
    return _ALIASES.get(raw, raw)


def check_grader_spec(spec: dict[str, Any]) -> None:
    """Raise GraderError when a spec lacks what its type needs."""
    kind = grader_type(spec)
    if kind not in GRADER_TYPES:
        raise GraderError(f"unknown grader type {spec.get('type')!r} (known: {', '.join(GRADER_TYPES)})")
    needs = {"exact": "reference", "normalized": "reference", "contains": "reference", "regex": "pattern",
             "numeric": "reference", "json_field": "fields", "python": "function", "llm_judge": "rubric"}[kind]
    if needs not in spec:
        raise GraderError(f"grader {kind} needs '{needs}'")
    if kind == "regex":
        try:
            re.compile(str(spec["pattern"]))
        except re.error as exc:
            raise GraderError(f"grader regex pattern does not compile: {exc}") from exc
    if kind == "numeric":
        try:
            float(spec["reference"])
            float(spec.get("tolerance", 1e-6))
        except (TypeError, ValueError) as exc:
            raise GraderError("grader numeric needs a number 'reference' and 'tolerance'") from exc
    if kind == "json_field" and not isinstance(spec["fields"], dict):
        raise GraderError("grader json_field needs 'fields' as an object of field path -> value")
    if kind == "python" and ":" not in str(spec["function"]):
        raise GraderError("grader python needs 'function' as module:func")


# Fields that configure a grader without giving its answer away: never secret.
PUBLIC_FIELDS = frozenset({"type", "function", "public", "pass_score", "tolerance", "ignore_case"})
# Secret fields a grader shows as the training signal, on training items only.
SHOWN_ON_TRAINING: dict[str, tuple[str, ...]] = {
    "exact": ("reference",), "normalized": ("reference",), "contains": ("reference",), "numeric": ("reference",),
    "json_field": ("fields",),
}


def secret_fields(spec: dict[str, Any]) -> list[str]:
    """The fields of a spec the optimizer must not see: all but the structural ones and those the spec declares public."""
    declared = spec.get("public") or []
    public = PUBLIC_FIELDS | ({str(name) for name in declared} if isinstance(declared, list) else {str(declared)})
    return [key for key in spec if key not in public]


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _leaves(item)]
    if value is None or isinstance(value, bool):
        return []
    return [str(value)]


def hidden_strings(spec: dict[str, Any], training: bool = False) -> list[str]:
    """The texts of a grader the optimizer must never see; on a training item, the training signal is not among them."""
    shown = SHOWN_ON_TRAINING.get(grader_type(spec), ()) if training else ()
    return [text for key in secret_fields(spec) if key not in shown for text in _leaves(spec[key]) if text.strip()]


def shown_strings(spec: dict[str, Any]) -> list[str]:
    """The secret texts a grader shows on training items (its answer): what a hard-coded example would copy."""
    shown = SHOWN_ON_TRAINING.get(grader_type(spec), ())
    return [text for key in shown if key in spec for text in _leaves(spec[key]) if text.strip()]


def redact(feedback: str, secrets: list[str]) -> str:
    """Replace every hidden string of 3+ characters that slipped into feedback."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret.strip()) >= 3:
            feedback = re.sub(re.escape(secret.strip()), HIDDEN, feedback, flags=re.IGNORECASE)
    return feedback


def _normalise(text: str) -> str:
    text = text.casefold().strip().strip(string.punctuation + " ")
    return re.sub(r"\s+", " ", text)


def _show(output: str, limit: int = 80) -> str:
    one_line = output.strip().replace("\n", " ")
    return repr(one_line if len(one_line) <= limit else one_line[:limit] + "...")


def _difference_hint(output: str, reference: str) -> str | None:
    if output.strip().casefold() == reference.strip().casefold():
        return "it differs only in letter case"
    if _normalise(output) == _normalise(reference):
        return "it differs only in spacing or surrounding punctuation"
    if reference.strip() and reference.strip() in output:
        return "the expected answer is there, but with other text around it"
    if len(output.strip()) > 2 * len(reference.strip()) + 10:
        return "the answer is much longer than expected"
    return None


def _exact(output: str, reference: str, training: bool = False) -> Grade:
    if output.strip() == reference.strip():
        return Grade(1.0, True, "correct")
    hint = _difference_hint(output, reference) if output.strip() else None
    if training:  # the training signal: what was expected and what was given
        given = _show(output, 120) if output.strip() else "an empty answer"
        return Grade(0.0, False, f"expected {_show(reference, 120)}, got {given}" + (f"; {hint}" if hint else ""))
    if not output.strip():
        return Grade(0.0, False, "the answer is empty")
    return Grade(0.0, False, "the answer is not the expected one" + (f"; {hint}" if hint else ""))


def _contains(output: str, spec: dict[str, Any], training: bool) -> Grade:
    wanted = spec["reference"] if isinstance(spec["reference"], list) else [spec["reference"]]
    missing = [str(w) for w in wanted if str(w).casefold() not in output.casefold()]
    score = 1.0 - len(missing) / len(wanted)
    if not missing:
        return Grade(score, True, "correct")
    if training:
        phrases = ", ".join(_show(m, 60) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        return Grade(score, False, f"the answer lacks {len(missing)} of {len(wanted)} required phrase(s): {phrases}")
    return Grade(score, False, f"the answer lacks {len(missing)} of {len(wanted)} required phrase(s)")


def _regex(output: str, spec: dict[str, Any]) -> Grade:
    """Never shows the pattern: says in words how the answer misses the required form."""
    pattern = str(spec["pattern"])
    flags = re.IGNORECASE if spec.get("ignore_case") else 0
    answer = output.strip()
    if re.search(pattern, answer, flags) is not None:
        return Grade(1.0, True, "correct")
    if not answer:
        return Grade(0.0, False, "the answer is empty; it should have the required form")
    hints = []
    loose = re.sub(r"^\^|(?<!\\)\$$|\\A|\\Z|\\z", "", pattern)
    if loose != pattern and _search(loose, answer, flags):
        hints.append("the required form is there, but the answer has other text before or after it; give only that")
    elif any(_search(pattern, line.strip(), flags) for line in answer.splitlines()[1:] + answer.splitlines()[:1]):
        hints.append("one line has the required form, but the answer has other lines too")
    elif not flags and _search(pattern, answer, re.IGNORECASE):
        hints.append("it differs from the required form only in letter case")
    elif _search(pattern, re.sub(r"\s+", "", answer), flags) or _search(pattern, re.sub(r"\s+", " ", answer), flags):
        hints.append("it differs from the required form only in spacing")
    detail = f"; {hints[0]}" if hints else ""
    return Grade(0.0, False, f"the answer does not have the required form (got {_show(output)}){detail}")


def _search(pattern: str, text: str, flags: int) -> bool:
    try:
        return re.search(pattern, text, flags) is not None
    except re.error:
        return False


def _numbers(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in re.findall(r"-?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?", text)]


def _numeric(output: str, spec: dict[str, Any], training: bool = False) -> Grade:
    reference = float(spec["reference"])
    tolerance = float(spec.get("tolerance", 1e-6))
    numbers = _numbers(output)
    if not numbers:
        return Grade(0.0, False, "no number found in the answer")
    value = numbers[-1]
    if math.isclose(value, reference, abs_tol=tolerance, rel_tol=0.0):
        return Grade(1.0, True, "correct")
    direction = "high" if value > reference else "low"
    read = f" (the last number in the answer is read: {value:g})" if len(numbers) > 1 else ""
    if training:
        return Grade(0.0, False, f"expected {reference:g} (within {tolerance:g}), got {value:g}: too {direction}{read}")
    return Grade(0.0, False, f"the final number is too {direction}{read}")


def _field(data: Any, path: str) -> tuple[bool, Any]:
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _json_show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:80] + "..."


def _json_field(output: str, fields: dict[str, Any], training: bool = False) -> Grade:
    text = output.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        text = fence.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        start = text.find("{")
        around = " (a JSON object is there, but with other text around it)" if start > 0 else ""
        return Grade(0.0, False, f"the answer is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{around}")
    problems = []
    for path, expected in fields.items():
        present, value = _field(data, path)
        if not present:
            problems.append(f"field {path} is missing" + (f" (expected {_json_show(expected)})" if training else ""))
        elif value != expected:
            problems.append(f"field {path}: expected {_json_show(expected)}, got {_json_show(value)}" if training
                            else f"field {path} has the wrong value")
    score = 1.0 - len(problems) / max(1, len(fields))
    return Grade(score, not problems, "; ".join(problems) or "correct")


def load_function(ref: str, folder: Path | None) -> Callable[..., Any]:
    """Import `module:func`, looking first for `module.py` in the dataset folder."""
    module_name, _, func_name = ref.partition(":")
    module = None
    if folder is not None and (folder / f"{module_name}.py").exists():
        key = f"mimo_grader_{abs(hash(str(folder)))}_{module_name}"
        module = sys.modules.get(key)
        if module is None:
            spec = importlib.util.spec_from_file_location(key, folder / f"{module_name}.py")
            if spec is None or spec.loader is None:
                raise GraderError(f"cannot load grader module {folder / module_name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[key] = module
            spec.loader.exec_module(module)
    if module is None:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise GraderError(f"grader module {module_name!r} cannot be imported ({exc})") from exc
    func = getattr(module, func_name, None)
    if not callable(func):
        raise GraderError(f"grader function {ref!r} not found")
    return func


def _python(output: str, spec: dict[str, Any], task_input: str, folder: Path | None) -> Grade:
    func = load_function(str(spec["function"]), folder)
    try:
        result = func(output, {"input": task_input, **spec})
    except Exception as exc:  # noqa: BLE001 - a user grader's failure is reported, never a traceback
        raise GraderError(f"grader {spec['function']} failed: {type(exc).__name__}: {exc}") from exc
    if isinstance(result, dict):
        score, feedback = float(result.get("score", 0.0)), str(result.get("feedback", ""))
    elif isinstance(result, tuple):
        score, feedback = float(result[0]), str(result[1])
    else:
        score, feedback = float(result), ""
    score = min(1.0, max(0.0, score))
    passed = score >= float(spec.get("pass_score", 1.0)) - 1e-9
    return Grade(score, passed, feedback or ("correct" if passed else "the answer is wrong"))


JUDGE_SCORE = re.compile(r"score\s*[:=]\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def judge_messages(rubric: str, task_input: str, output: str) -> list[dict[str, str]]:
    """The prompt of an LLM-judge grader."""
    return [
        {"role": "system", "content": "You grade answers against a rubric. Reply with a line 'SCORE: <0 to 1>' "
         "and a line 'FEEDBACK: <one or two sentences about what is wrong, without quoting the rubric>'."},
        {"role": "user", "content": f"RUBRIC:\n{rubric}\n\nTASK:\n{task_input}\n\nANSWER:\n{output}"},
    ]


def parse_judge_reply(text: str, pass_score: float) -> Grade:
    match = JUDGE_SCORE.search(text)
    if match is None:
        raise GraderError("the judge's reply has no 'SCORE: x' line")
    score = min(1.0, max(0.0, float(match.group(1))))
    feedback_match = re.search(r"feedback\s*[:=]\s*(.+)", text, re.IGNORECASE | re.S)
    feedback = feedback_match.group(1).strip() if feedback_match else ""
    passed = score >= pass_score - 1e-9
    return Grade(score, passed, feedback or ("correct" if passed else "the judge found the answer lacking"))


async def grade(
    spec: dict[str, Any], output: str, task_input: str, folder: Path | None = None, judge: Judge | None = None,
    training: bool = False,
) -> Grade:
    """Score one output. `training`: the item is a training item, whose feedback may show the training signal
    (see SHOWN_ON_TRAINING); every other secret field is redacted from the feedback."""
    kind = grader_type(spec)
    if kind == "exact":
        result = _exact(output, str(spec["reference"]), training)
    elif kind == "normalized":
        ok = _normalise(output) == _normalise(str(spec["reference"]))
        result = Grade(1.0, True, "correct") if ok else _exact(output, str(spec["reference"]), training)
    elif kind == "contains":
        result = _contains(output, spec, training)
    elif kind == "regex":
        result = _regex(output, spec)
    elif kind == "numeric":
        result = _numeric(output, spec, training)
    elif kind == "json_field":
        result = _json_field(output, spec["fields"], training)
    elif kind == "python":
        result = _python(output, spec, task_input, folder)
    elif kind == "llm_judge":
        if judge is None:
            raise GraderError("an llm_judge grader needs a judge model")
        reply = await judge(str(spec["rubric"]), task_input, output)
        result = parse_judge_reply(reply, float(spec.get("pass_score", 0.5)))
    else:
        raise GraderError(f"unknown grader type {kind!r}")
    return Grade(result.score, result.passed, redact(result.feedback, hidden_strings(spec, training)))
