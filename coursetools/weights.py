"""``make weights``: train the full-mode models whose results a workshop cannot wait for, and ship them.

Each entry trains with the course's own lesson code (``helpers.lessons``), in full mode, with a fixed
seed, and saves every model as float16 weights in ``helpers/weights/NAME.npz`` beside a record
``NAME.json``: the commit and whether the tree had uncommitted changes, date, machine, seed, plan,
steps, training seconds, and the figures measured with the float16 weights loaded back into a fresh
model (whole held-out plays, and the first :data:`SCORED_CHARACTERS` of each, which fast mode and
``tests/test_course_weights.py`` score live). Training is sized in steps: the same seed and code
give the same weights on any machine load.

    python -m coursetools.weights               # every entry
    python -m coursetools.weights shakespeare   # notebook 08's GPT and LSTM (about 25 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 42
SCORED_CHARACTERS = 20_000  # the start of each held-out play, scored live in fast mode and by the test


def provenance() -> dict[str, object]:
    """Which code made the weights, when, and on what machine."""
    from helpers import results

    return {
        **results.code_version(ROOT),
        "date": datetime.date.today().isoformat(),
        "machine": results.machine(),
        "made by": "make weights (python -m coursetools.weights)",
    }


def shakespeare() -> None:
    """Notebook 08's full-mode GPT and the LSTM of the same size, trained as the notebook trains them."""
    import keras
    import tensorflow as tf

    from helpers.datasets import course_weights
    from helpers.datasets import shakespeare as plays_data
    from helpers.lessons import gpt
    from helpers.seeding import seed_everything

    plan = gpt.gpt_plan("full")
    plays = plays_data.load_plays()
    split = plays_data.split_plays(plays, train_limit=plan.train_characters)
    vocabulary = plays_data.CharVocabulary.from_texts(plays.values())
    train, validation, test = (vocabulary.encode(text) for text in (split.train, split.validation, split.test))
    held_out = {"validation": validation, "test": test}

    def build(name: str, parameters: int | None = None) -> keras.Model:
        if name == "gpt":
            model = gpt.GPT(len(vocabulary), plan.context, plan.width, plan.layers, plan.heads)
            model(tf.zeros((1, plan.context), tf.int32))
            return model
        units = gpt.lstm_units_for(parameters, len(vocabulary))
        return gpt.lstm_language_model(len(vocabulary), units, units)

    def figures(model: keras.Model) -> dict[str, float]:
        scorer = gpt.CharacterScorer(model, plan.context)
        found = {f"{play} bits/char": scorer(ids) for play, ids in held_out.items()}
        for play, ids in held_out.items():
            found[f"{play} bits/char, first {SCORED_CHARACTERS:,} characters"] = scorer(ids[:SCORED_CHARACTERS])
        return found

    made = provenance()  # before training: the code that trains is the code of this commit
    seed_everything(SEED)
    gpt_parameters = None
    for name in ("gpt", "lstm"):
        keras.utils.set_random_seed(SEED)
        model = build(name, gpt_parameters)
        gpt_parameters = gpt_parameters or model.count_params()
        print(f"training the {name} ({model.count_params():,} parameters), {plan.steps} steps ...", flush=True)
        log = gpt.train_language_model(model, train, validation, plan, SEED)
        float32 = figures(model)
        record = {
            **made,
            "model": f"{name}_shakespeare: notebook 08's {name.upper()}, full mode",
            "seed": SEED,
            "plan": dataclasses.asdict(plan),
            "steps": log.steps_done,
            "parameters": model.count_params(),
            "training seconds": round(log.training_seconds, 1),
            "learning curve": log.rows,
            "scored characters": SCORED_CHARACTERS,
            "training plays": len(split.train_plays),
            "float32 figures": float32,
        }
        course_weights.save_weights(model, f"{name}_shakespeare", record)
        reloaded = build(name, gpt_parameters)
        course_weights.load_weights(reloaded, f"{name}_shakespeare")
        record["figures"] = figures(reloaded)  # what the shipped float16 weights score
        course_weights.save_weights(model, f"{name}_shakespeare", record)
        print(f"  {log.steps_done} steps in {log.training_seconds:.0f} s; float16 weights: {record['figures']}")


ENTRIES: dict[str, Callable[[], None]] = {"shakespeare": shakespeare}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"entries to train: {', '.join(ENTRIES)} (default: all)")
    arguments = parser.parse_args(argv)
    unknown = sorted(set(arguments.names) - set(ENTRIES))
    if unknown:
        parser.error(f"no entry {', '.join(unknown)}; the entries are {', '.join(ENTRIES)}")
    for name in arguments.names or ENTRIES:
        started = time.perf_counter()
        ENTRIES[name]()
        print(f"{name}: done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
