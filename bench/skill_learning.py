"""Does the trainer learn from its training data, and can its gate be trusted? A simulated benchmark.

Usage: python bench/skill_learning.py [--tiny] [--seeds 5] [--grader exact|python-feedback] [--samples K] [--alpha A]
                                      [--gate-rounds R] [--gate-extra-samples N]
                                      [--gate-temperature T] [--gate-resample flipped|unsettled]
                                      [--gate-more-if any|gain] [--epochs E] [--batch B] [--slip S] [--verbose]

The world (bench/skill_learning_sim.py): tasks that normalise one value (date, amount, company, time, phone,
currency, plain word) under six hidden conventions; a simulated target that follows a convention only when the
skill states it and slips on a share of answers (so one pass can mislead); a simulated optimizer that infers
conventions only by comparing the expected and the given answer in the training feedback it is shown, phrases
some rules too broadly (a broad rule fixes one kind and breaks another) and adds filler rules. Both models are
served by a real local OpenAI-compatible HTTP server; the trainer reaches them through litellm like any
provider, and calls are counted at the server. The trainer runs with its default settings and the default
(exact) grader unless a flag says otherwise. Each seed draws its own data: 21 train, 28 validation and 14
test items for the trainer, and 210 held-out items the trainer never sees.

Figures per seed: target calls (at the server) until the incumbent's validation score reaches 0.8 (its true
score, the expectation over slips, so a lucky pass does not count); the final skill's score on the held-out
items against a skill that states every convention; accepted edits that lowered the true held-out score;
and candidates the gate did not accept that would have raised it. Run from the repository root.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/skill_learning.py",
        description="Simulated benchmark of the skill trainer: learning from training feedback, and the gate.",
        epilog="Prints one line per seed and a summary with the targets of issue 14.")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5: 1..5)")
    parser.add_argument("--grader", choices=("exact", "python-feedback"), default="exact",
                        help="exact: the default grader; python-feedback: a Python grader on training items that "
                             "writes expected 'X', got 'Y' (for graders that do not show it yet)")
    parser.add_argument("--samples", type=int, help="trainer samples per task (default: the trainer's)")
    parser.add_argument("--alpha", type=float, help="gate alpha (default: the trainer's)")
    parser.add_argument("--gate-rounds", type=int, help="rounds of more samples (default: the trainer's)")
    parser.add_argument("--gate-extra-samples", type=int, help="samples added per flipped item a round (default: the trainer's)")
    parser.add_argument("--gate-temperature", type=float,
                        help="temperature of the gate's extra samples (default: the trainer's)")
    parser.add_argument("--gate-resample", choices=("flipped", "unsettled"), help="items given extra samples (default: the trainer's)")
    parser.add_argument("--gate-more-if", choices=("any", "gain"), help="when a round of extra samples is run (default: the trainer's)")
    parser.add_argument("--margin", type=float, help="gate margin (default: the trainer's)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the trainer's)")
    parser.add_argument("--batch", type=int, help="training items per step (default: the trainer's)")
    parser.add_argument("--slip", type=float, default=0.06, help="the target's slip rate (default 0.06)")
    parser.add_argument("--verbose", action="store_true", help="print every gate decision")
    parser.add_argument("--tiny", action="store_true", help="smoke run: 1 seed, 1 epoch (its figures mean little)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.seeds, args.epochs = 1, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import asyncio

    from skill_learning_run import run_benchmark  # the heavy imports (litellm) only after --help

    return asyncio.run(run_benchmark(args))


if __name__ == "__main__":
    raise SystemExit(main())
