"""Adapting a real LLM as notebook 14 does it; part 2: retrieval-augmented generation over the course's notebooks.

The notebook's own code (``helpers.lessons.llm_adaptation``, exported from its cells) and its plan
(``rag_plan``: every notebook before 14 searched and every question of ``helpers/datasets/course_questions.json``
answered in full mode). It prints:

* retrieval: recall@1, @3 and @5 of TF-IDF and of MiniLM (all-MiniLM-L6-v2) on the question set, a passage being
  relevant when it comes from the question's notebook and holds its answer;
* chunking: recall@3 of both retrievers for each passage length of the plan (overlap a fifth of each);
* answers: SmolLM2-135M-Instruct's answer accuracy (the answer string in the reply, case-insensitive) without
  retrieval, with TF-IDF's top 3 passages and with MiniLM's in the prompt, greedy;
* the failures: MiniLM's retrieval failures (no relevant passage in the top 3) and the questions its arm missed,
  each as a retrieval or a reading failure, with the reply.

Retrieval and greedy decoding are deterministic and train nothing: no seed changes them, so the benchmark runs
once (the results file records it under seed 42). Part 1 (LoRA, over seeds) is ``benchmarks/llm_adaptation.py``.
Targets (full mode; recorded in fast mode
too, where one question and three notebooks make them indicative only): MiniLM recall@3 at least 0.9;
answer accuracy with MiniLM retrieval at least 40 points above no retrieval, and at least TF-IDF retrieval's. With
``--check`` the figures go to ``benchmarks/results/rag_MODE.json`` (:mod:`helpers.results`).

    python benchmarks/rag.py --check     # COURSE_MODE (default full): every question
    python benchmarks/rag.py --fast      # a quick look (three notebooks, one answered question)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from typing import Any

from helpers import results
from helpers.mode import course_mode

MIN_MINILM_RECALL_AT_3 = 0.9
MIN_MINILM_GAIN_OVER_NO_RETRIEVAL = 0.40  # answer accuracy, MiniLM retrieval minus no retrieval
MIN_MINILM_GAIN_OVER_TFIDF = 0.0  # answer accuracy, MiniLM retrieval minus TF-IDF retrieval


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = results.benchmark_parser("rag", __doc__, seeds="42")
    return parser.parse_args(argv)


def load_smollm(xla: bool) -> tuple[Any, Any]:
    """SmolLM2-135M-Instruct's tokenizer and a KV-cache decoder, loaded as notebooks 10 and 14 do."""
    from helpers.datasets.registry import smollm2_file
    from helpers.lessons.llm import CachedDecoder, Llama, gguf_tokenizer, load_gguf_weights, read_gguf

    smollm = read_gguf(smollm2_file())
    model = Llama(smollm.config)
    load_gguf_weights(model, smollm.weights)
    return gguf_tokenizer(smollm), CachedDecoder(model, xla=xla)


def rag_figures(mode: str) -> dict[str, float]:
    """The figures (deterministic): recall@k, the chunk-size sweep and answer accuracy in three arms."""
    import keras_hub
    import numpy as np
    import pandas as pd

    from helpers.datasets.course_notebooks import load_course_documents, load_course_questions
    from helpers.datasets.registry import fetch
    from helpers.lessons import llm_adaptation as lesson

    plan = lesson.rag_plan(mode)
    print(plan)
    documents = [d for d in load_course_documents() if plan.notebooks is None or d.notebook in plan.notebooks]
    questions = [q for q in load_course_questions() if plan.notebooks is None or q.notebook in plan.notebooks]
    asked = [q.question for q in questions]
    model_folder = fetch("all_minilm_l6_v2") / "model"
    backbone = keras_hub.models.BertBackbone.from_preset(str(model_folder))
    bert_tokenizer = keras_hub.models.BertTokenizer.from_preset(str(model_folder))

    def retrievers(passages: list) -> dict[str, Any]:
        return {
            "TF-IDF": lesson.TfidfRetriever(passages),
            "MiniLM": lesson.MiniLMRetriever(backbone, bert_tokenizer, passages, passage_length=plan.passage_length),
        }

    figures: dict[str, float] = {}
    print(f"\nchunking: recall@3 on {len(questions)} questions, {len(documents)} notebooks")
    for words in plan.chunk_sizes:
        sized = lesson.course_passages(documents, words, words // 5)
        sized_relevant = lesson.relevance(sized, questions)
        for name, retriever in retrievers(sized).items():
            value = lesson.recall_at_k(lesson.top_k(retriever.scores(asked), 3), sized_relevant, 3)
            figures[f"RAG chunk size {words:>3} words: {name} recall@3"] = value
            print(f"  {words:>3} words ({len(sized)} passages)  {name:<7} {value:.3f}", flush=True)

    passages = lesson.course_passages(documents, plan.passage_words, plan.passage_overlap)
    relevant = lesson.relevance(passages, questions)
    rankings = {name: lesson.top_k(retriever.scores(asked), 5) for name, retriever in retrievers(passages).items()}
    print(f"\nretrieval, {len(passages)} passages of {plan.passage_words} words (overlap {plan.passage_overlap})")
    for name, ranking in rankings.items():
        for k in (1, 3, 5):
            figures[f"RAG retrieval recall@{k}, {name}"] = lesson.recall_at_k(ranking, relevant, k)
        print(
            f"  {name:<7} "
            + "  ".join(f"recall@{k} {figures[f'RAG retrieval recall@{k}, {name}']:.3f}" for k in (1, 3, 5))
        )
    shown_relevant = {
        name: np.take_along_axis(relevant, ranking[:, : plan.top_k], axis=1).any(axis=1)
        for name, ranking in rankings.items()
    }
    print(f"\nMiniLM's retrieval failures (no relevant passage in its top {plan.top_k}):")
    for number, question in enumerate(questions):
        if not shown_relevant["MiniLM"][number]:
            first = passages[rankings["MiniLM"][number, 0]]
            print(
                f"  {question.question} [{question.answer}, {question.notebook}] -> first: "
                f"{first.notebook}: {first.text[:80]}"
            )

    tokenizer, decoder = load_smollm(xla=mode == "full")
    answered = questions[: plan.answered]
    started = time.perf_counter()
    arms = lesson.answer_arms(
        decoder, tokenizer, answered, passages, {"no retrieval": None, **rankings}, plan.top_k, plan.max_new_tokens
    )
    print(f"\n{len(arms)} answers ({len(answered)} questions x 3 arms) in {time.perf_counter() - started:.0f} s")
    accuracy = arms.groupby("arm", sort=False)["right"].mean()
    for arm, value in accuracy.items():
        figures[f"RAG answer accuracy, {arm}"] = float(value)
    figures["RAG answer accuracy gain, MiniLM minus no retrieval"] = accuracy["MiniLM"] - accuracy["no retrieval"]
    figures["RAG answer accuracy gain, MiniLM minus TF-IDF"] = accuracy["MiniLM"] - accuracy["TF-IDF"]
    print(accuracy.rename("answer accuracy").round(3).to_string())
    print("\nanswers that missed (arm, kind, question [answer] -> reply):")
    index = {question.question: number for number, question in enumerate(answered)}
    for row in arms[~arms["right"]].itertuples():
        kind = (
            "no retrieval"
            if row.arm == "no retrieval"
            else ("reading" if shown_relevant[row.arm][index[row.question]] else "retrieval")
        )
        print(f"  {row.arm:<12} {kind:<12} {row.question} [{row.answer}] -> {row.reply[:100]!r}")
    with pd.option_context("display.width", 160):
        print("\nanswer accuracy by arm and whether the arm's passages held the answer:")
        arms["passages held the answer"] = [
            None if row.arm == "no retrieval" else bool(shown_relevant[row.arm][index[row.question]])
            for row in arms.itertuples()
        ]
        print(
            arms.groupby(["arm", "passages held the answer"], dropna=False, sort=False)["right"].agg(["mean", "count"])
        )
    return {name: float(value) for name, value in figures.items()}


def rag_targets(per_seed: Mapping[int, Mapping[str, float]], seeds: list[int]) -> dict[str, dict[str, Any]]:
    """The targets (the figures are deterministic: the same for any seed)."""

    def figure(name: str) -> list[float]:
        return [per_seed[seed][name] for seed in seeds]

    return {
        f"RAG: MiniLM recall@3 at least {MIN_MINILM_RECALL_AT_3}": results.target(
            figure("RAG retrieval recall@3, MiniLM"), MIN_MINILM_RECALL_AT_3, MIN_MINILM_RECALL_AT_3
        ),
        f"RAG: answer accuracy with MiniLM retrieval at least {100 * MIN_MINILM_GAIN_OVER_NO_RETRIEVAL:.0f} points "
        "above no retrieval": results.target(
            figure("RAG answer accuracy gain, MiniLM minus no retrieval"),
            MIN_MINILM_GAIN_OVER_NO_RETRIEVAL,
            MIN_MINILM_GAIN_OVER_NO_RETRIEVAL,
        ),
        "RAG: answer accuracy with MiniLM retrieval at least TF-IDF retrieval's": results.target(
            figure("RAG answer accuracy gain, MiniLM minus TF-IDF"),
            MIN_MINILM_GAIN_OVER_TFIDF,
            MIN_MINILM_GAIN_OVER_TFIDF,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = args.seeds


    version = results.code_version()  # the code that runs, read before the measurements
    print(results.run_header(mode, seeds))
    rag = rag_figures(mode)
    per_seed = {seed: dict(rag) for seed in seeds}  # deterministic: the same figures for every seed
    targets = rag_targets(per_seed, seeds)
    return results.finish("rag", mode, seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
