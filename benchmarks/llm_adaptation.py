"""Adapting a real LLM as notebook 14 does it, part 1: instruction tuning SmolLM2-135M-Instruct with LoRA.

The notebook's own code (``helpers.lessons.llm_adaptation``, exported from its cells) and its plan
(``tuning_plan``). The task: R8 topics as an instruction (the first 48 words of a news story, "which topic?
answer with one word"), scored by the largest logit among the eight topic words' first tokens, on a fixed random
sample of 512 test stories. It prints:

* prompting the base model: zero-shot and few-shot (one 24-word example story per topic), and the majority topic;
* for each seed (default 42, 1, 2: each draws its own 50 stories per topic and its own A): LoRA (rank 8 on every
  projection of every block, 2 epochs, the step compiled by XLA): accuracy, steps, training seconds, the final
  loss; TF-IDF + logistic regression (notebook 07) on the same stories and the same first 48 words;
* the merge: the largest logit difference between the merged and the unmerged model, and the adapter file's size
  against the model's float32 weights and against the GGUF file.

Targets (issue 36, full mode, over the seeds): LoRA at 50 stories per topic at least 0.85 accuracy on the mean
(floor 0.80), at least 40 points above the best prompting of the base model (floor 0.35); training at most
10 minutes (600 s) on 2 CPU cores; merged logits within 1e-4 of the unmerged; the adapter file at most 1/20 of the
model's weights. With ``--check`` the figures go to ``benchmarks/results/llm_adaptation_MODE.json``
(:mod:`helpers.results`), which notebook 14 quotes.

    python benchmarks/llm_adaptation.py --check             # COURSE_MODE (default full): about 30 minutes
    python benchmarks/llm_adaptation.py --fast --seeds 42   # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from helpers import results
from helpers.mode import course_mode

MIN_LORA_ACCURACY, FLOOR_LORA_ACCURACY = 0.85, 0.80
MIN_GAIN_OVER_PROMPTING, FLOOR_GAIN_OVER_PROMPTING = 0.40, 0.35
MAX_TRAINING_SECONDS = 600.0
MAX_MERGE_GAP = 1e-4
MAX_ADAPTER_SHARE = 1 / 20


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return results.benchmark_parser("llm_adaptation", __doc__, seeds="42,1,2").parse_args(argv)


def prompting_figures(scorer, task) -> dict[str, float]:
    """Accuracy of the base model prompted zero-shot and few-shot, and of always answering the majority topic."""
    import numpy as np

    from helpers.lessons import llm_adaptation as lesson

    figures = {
        "zero-shot: accuracy": scorer.accuracy(task.test_stories, task.test_topics),
        "few-shot (one story per topic): accuracy": scorer.accuracy(
            task.test_stories, task.test_topics, lesson.few_shot_examples(task)
        ),
    }
    figures["majority topic: accuracy"] = float(np.mean(task.test_topics == np.bincount(task.train_topics).argmax()))
    return figures


def lora_run(smollm, tokenizer, task, plan, seed: int) -> dict[str, float]:
    """One seed: LoRA trained and scored, merged and compared, its file measured; TF-IDF + LR on the same stories."""
    import keras
    import numpy as np

    from helpers.datasets.registry import smollm2_file
    from helpers.lessons import llm
    from helpers.lessons import llm_adaptation as lesson
    from helpers.lessons.text import fit_tfidf_baseline
    from helpers.serving.adapters import PROJECTIONS, merge_lora, read_lora, save_lora

    keras.utils.set_random_seed(seed)  # A's initial values
    model = lesson.lora_llama(smollm.config, smollm.weights, lesson.LORA_RANK, lesson.LORA_ALPHA, PROJECTIONS)
    started = time.perf_counter()
    chosen, losses = lesson.train_topic_adapter(model, tokenizer, task, plan, seed)
    seconds = time.perf_counter() - started
    accuracy = lesson.TopicScorer(model, tokenizer).accuracy(task.test_stories, task.test_topics)
    with tempfile.TemporaryDirectory() as folder:
        path = save_lora(Path(folder) / "adapter.npz", lesson.lora_adapter(model))
        adapter_bytes = path.stat().st_size
        merged = llm.Llama(smollm.config)
        llm.load_gguf_weights(merged, smollm.weights)
        merge_lora(merged, read_lora(path))
    probe = np.array([tokenizer.encode(llm.chat_prompt(lesson.topic_messages(task.test_stories[0])))], np.int32)
    merge_gap = float(np.abs(model(probe).numpy() - merged(probe).numpy()).max())
    # float32's own noise, for scale: the same merged model on the same prompt, alone and beside another one
    beside = np.concatenate([probe, probe[:, ::-1]])
    noise = float(np.abs(merged(probe).numpy()[0] - merged(beside).numpy()[0]).max())
    words = [lesson.first_words(task.train_stories[i], lesson.STORY_WORDS) for i in chosen]
    c_values = (1.0, 10.0, 100.0) if plan.per_topic >= 10 else (10.0,)  # C chosen on a tenth, if there is one
    tfidf = fit_tfidf_baseline(words, task.train_topics[chosen], c_values, seed)
    test_words = [lesson.first_words(story, lesson.STORY_WORDS) for story in task.test_stories]
    tfidf_accuracy = float(np.mean(tfidf.model.predict(test_words) == task.test_topics))
    name = f"LoRA, {plan.per_topic} per topic"
    print(f"  seed {seed}: {name}: accuracy {accuracy:.4f} ({len(losses)} steps in {seconds:.0f} s, final loss "
          f"{losses[-1]:.3f}); TF-IDF + LR on the same stories {tfidf_accuracy:.4f}; merge gap {merge_gap:.1e} "
          f"(float32 noise {noise:.1e}); "
          f"adapter {adapter_bytes / 1e6:.1f} MB", flush=True)  # fmt: skip
    return {
        f"{name}: accuracy": accuracy,
        f"{name}: training seconds": seconds,
        f"{name}: steps": len(losses),
        f"{name}: final loss": losses[-1],
        f"TF-IDF + LR, {plan.per_topic} per topic, same words: accuracy": tfidf_accuracy,
        "LoRA: trained weights": sum(int(v.numpy().size) for v in lesson.lora_variables(model)),
        "LoRA: merged minus unmerged logits, largest": merge_gap,
        "LoRA: merged model alone minus in a batch of 2, logits, largest (float32 noise)": noise,
        "LoRA: largest logit, magnitude": float(np.abs(model(probe).numpy()).max()),
        "LoRA: adapter file / model weights": adapter_bytes / llm.weight_bytes(merged),
        "LoRA: adapter file / GGUF file": adapter_bytes / smollm2_file().stat().st_size,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    import keras
    import tensorflow as tf

    from helpers.datasets.registry import smollm2_file
    from helpers.lessons import llm
    from helpers.lessons import llm_adaptation as lesson

    version = results.code_version()  # the code that runs, read before the training
    plan = lesson.tuning_plan(mode)
    print(
        f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   CPUs: {os.cpu_count()}   "
        f"load average (1 min): {os.getloadavg()[0]:.2f}   seeds: {args.seeds}\n{plan}"
    )
    smollm = llm.read_gguf(smollm2_file())
    tokenizer = llm.gguf_tokenizer(smollm)
    task = lesson.topic_task(lesson.test_story_count(mode))
    base = llm.Llama(smollm.config)
    llm.load_gguf_weights(base, smollm.weights)
    prompting = prompting_figures(lesson.TopicScorer(base, tokenizer), task)
    print(f"{len(task.test_stories)} test stories: " + ", ".join(f"{k} {v:.4f}" for k, v in prompting.items()))
    best_prompting = max(prompting["zero-shot: accuracy"], prompting["few-shot (one story per topic): accuracy"])
    name = f"LoRA, {plan.per_topic} per topic"
    per_seed = {}
    for seed in args.seeds:
        per_seed[seed] = {**prompting, **lora_run(smollm, tokenizer, task, plan, seed)}
        per_seed[seed][f"{name}: gain over the best prompting"] = per_seed[seed][f"{name}: accuracy"] - best_prompting
    print(f"\nover seeds {args.seeds}:")
    for figure in per_seed[args.seeds[0]]:
        values = [per_seed[seed][figure] for seed in args.seeds]
        print(f"  {figure:<58} mean {sum(values) / len(values):.4f}  min {min(values):.4f}  max {max(values):.4f}")

    def column(figure: str) -> list[float]:
        return [per_seed[seed][figure] for seed in args.seeds]

    targets = {
        f"{name}: accuracy >= {MIN_LORA_ACCURACY} (floor {FLOOR_LORA_ACCURACY})": results.target(
            column(f"{name}: accuracy"), MIN_LORA_ACCURACY, FLOOR_LORA_ACCURACY
        ),
        f"{name}: >= {MIN_GAIN_OVER_PROMPTING} above the best prompting (floor {FLOOR_GAIN_OVER_PROMPTING})": (
            results.target(
                column(f"{name}: gain over the best prompting"), MIN_GAIN_OVER_PROMPTING, FLOOR_GAIN_OVER_PROMPTING
            )
        ),
        f"{name}: training at most {MAX_TRAINING_SECONDS:.0f} s": results.target(
            column(f"{name}: training seconds"), MAX_TRAINING_SECONDS, MAX_TRAINING_SECONDS, at_most=True
        ),
        f"merged logits within {MAX_MERGE_GAP} of the unmerged": results.target(
            column("LoRA: merged minus unmerged logits, largest"), MAX_MERGE_GAP, MAX_MERGE_GAP, at_most=True
        ),
        f"adapter file at most {MAX_ADAPTER_SHARE:.2f} of the model's float32 weights": results.target(
            column("LoRA: adapter file / model weights"), MAX_ADAPTER_SHARE, MAX_ADAPTER_SHARE, at_most=True
        ),
    }
    return results.finish("llm_adaptation", mode, args.seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
