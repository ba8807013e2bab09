"""Pretrained encoders as notebook 09 runs them: the label-efficiency table on Reuters R8, and retrieval.

The notebook's own code (``helpers.lessons.encoders``, exported from its cells). The small encoder
is pretrained once with masked language modelling on the training stories (labels unused), then,
for each seed (which draws the labelled stories and the initial weights) and each number of
labelled stories per topic:

* TF-IDF + logistic regression (notebook 07's baseline) on the whole labelled stories;
* the small encoder from scratch, pretrained and frozen, pretrained and fine-tuned;
* all-MiniLM-L6-v2 frozen (sentence vectors + logistic regression);
* all-MiniLM-L6-v2 fine-tuned (every weight) on the first ``minilm_sequence_length`` tokens of each story,
  at the plan's ``minilm_labels_per_class`` only.

Then the retrieval chatbot's top-1 and top-3 accuracy on the held-out paraphrases, MiniLM against
TF-IDF retrieval. Accuracies are on the test stories (all 2,189 in full mode); seconds include scoring.

Targets, full mode (means over the seeds): fine-tuned MiniLM above TF-IDF + LR at 50 stories per
topic; the pretrained, fine-tuned small encoder above scratch at the fewest labels; MiniLM
retrieval top-1 above TF-IDF's. Fast mode: every approach above 40 % (8 topics) and the retrieval target.

    python benchmarks/encoders.py                     # COURSE_MODE (default full), seeds 42, 1, 2
    python benchmarks/encoders.py --fast --seeds 42   # a quick check run
    python benchmarks/encoders.py --baselines-only    # TF-IDF on whole stories vs the encoders' first tokens
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from typing import TYPE_CHECKING

from helpers import results
from helpers.mode import by_mode, course_mode

if TYPE_CHECKING:
    import keras_hub
    import pandas as pd

SEQUENCE_LENGTH_QUESTIONS = 32  # as notebook 09's search and chatbot


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = results.benchmark_parser("encoders", __doc__, seeds="42,1,2")
    parser.add_argument(
        "--baselines-only",
        action="store_true",
        help="only TF-IDF + LR on the whole stories and on the encoders' first tokens (seconds, not an hour)",
    )
    parser.add_argument(
        "--minilm-tokens",
        type=int,
        help="with --baselines-only: also fine-tune MiniLM on this many tokens per story, instead of the plan's "
        "minilm_sequence_length (minutes per seed)",
    )
    return parser.parse_args(argv)


def truncated_baseline_table(
    train_texts: list[str],
    truncated_train: list[str],
    labels,
    test_texts: list[str],
    truncated_test: list[str],
    test_labels,
    labels_per_class: tuple[int, ...],
    seeds: list[int],
) -> pd.DataFrame:
    """TF-IDF + LR test accuracy on the whole stories and on the same stories cut to the encoders'
    tokens, on the labelled picks of the main run (same seeds); rows (per topic, seed)."""
    import numpy as np
    import pandas as pd

    from helpers.lessons.encoders import per_class_sample
    from helpers.lessons.text import fit_tfidf_baseline

    rows = {}
    for seed in seeds:
        for per_class in labels_per_class:
            pick = per_class_sample(labels, per_class, seed)
            row = {}
            for name, texts, tests in (
                ("whole stories", train_texts, test_texts),
                ("first tokens only", truncated_train, truncated_test),
            ):
                baseline = fit_tfidf_baseline([texts[i] for i in pick], labels[pick], (10.0,), seed)
                row[name] = float(np.mean(baseline.model.predict(tests) == test_labels))
            rows[(per_class, seed)] = row
    return pd.DataFrame(rows).T.rename_axis(["per topic", "seed"])


def retrieval_table(backbone: keras_hub.models.BertBackbone, tokenizer: keras_hub.models.BertTokenizer) -> pd.DataFrame:
    """Top-1 and top-3 accuracy on the held-out paraphrases: TF-IDF retrieval against MiniLM."""
    import keras_hub
    import numpy as np
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer

    from helpers.datasets.chatbot import load_paraphrases, load_question_answers
    from helpers.lessons.encoders import sentence_embeddings, top_k_accuracy

    questions = [entry.question for entry in load_question_answers()]
    paraphrases = load_paraphrases()
    asked = [p.asks for p in paraphrases]
    targets = np.array([questions.index(p.means) for p in paraphrases])
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=SEQUENCE_LENGTH_QUESTIONS)
    tfidf = TfidfVectorizer(sublinear_tf=True).fit(questions)
    scores = {
        "TF-IDF": (tfidf.transform(asked) @ tfidf.transform(questions).T).toarray(),
        "MiniLM": sentence_embeddings(backbone, preprocessor, asked)
        @ sentence_embeddings(backbone, preprocessor, questions).T,
    }
    return pd.DataFrame(
        {name: {f"top-{k}": top_k_accuracy(s, targets, k) for k in (1, 3)} for name, s in scores.items()}
    ).T


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = args.seeds

    import keras
    import keras_hub
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    from helpers.datasets.registry import fetch
    from helpers.datasets.text import load_r8
    from helpers.lessons import encoders as lesson
    from helpers.seeding import seed_everything

    plan = lesson.encoder_plan(mode)
    print(
        f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   keras_hub {keras_hub.__version__}   "
        f"CPUs: {os.cpu_count()}   load average (1 min): {os.getloadavg()[0]:.2f}   seeds: {seeds}"
    )
    print(plan)
    model_folder = str(fetch("all_minilm_l6_v2") / "model")
    backbone = keras_hub.models.BertBackbone.from_preset(model_folder)
    tokenizer = keras_hub.models.BertTokenizer.from_preset(model_folder)
    story_preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=plan.sequence_length
    )

    r8 = load_r8()
    topics = sorted(set(r8.train_labels))
    test_pick = lesson.random_subset(len(r8.test_texts), plan.test_stories, seeds[0])
    wordpiece_train = lesson.tokenize(r8.train_texts, story_preprocessor)
    wordpiece_test = lesson.tokenize([r8.test_texts[i] for i in test_pick], story_preprocessor)
    vocabulary = lesson.compact_vocabulary(wordpiece_train, tokenizer.get_vocabulary())
    train = lesson.Stories(
        r8.train_texts, vocabulary.encode(wordpiece_train), np.array([topics.index(t) for t in r8.train_labels])
    )
    test = lesson.Stories(
        [r8.test_texts[i] for i in test_pick],
        vocabulary.encode(wordpiece_test),
        np.array([topics.index(r8.test_labels[i]) for i in test_pick]),
    )
    unlabelled = lesson.random_subset(len(train.texts), plan.unlabelled_stories, seeds[0])
    if args.baselines_only:
        special = [tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")]

        def cut(ids: np.ndarray) -> list[str]:
            """The stories as the encoders see them: their first WordPiece tokens, joined back into text."""
            texts = tokenizer.detokenize([[i for i in row if i not in special] for row in ids])
            return [t if isinstance(t, str) else t.decode("utf-8") for t in np.asarray(texts).tolist()]

        table = truncated_baseline_table(
            train.texts,
            cut(wordpiece_train),
            train.labels,
            test.texts,
            cut(wordpiece_test),
            test.labels,
            plan.labels_per_class,
            seeds,
        )
        print(f"\nTF-IDF + LR on the whole stories and on their first {plan.sequence_length} WordPiece tokens:\n")
        print(table.round(4).to_string())
        print("\nmeans over the seeds:\n" + table.groupby(level=0).mean().round(4).to_string())
        if args.minilm_tokens:
            longer = dataclasses.replace(plan, minilm_sequence_length=args.minilm_tokens)
            for per_class in plan.minilm_labels_per_class:
                rows = [
                    lesson.fine_tuned_minilm_row(model_folder, train, test, len(topics), per_class, longer, seed)
                    for seed in seeds
                ]
                accuracies = [row["test accuracy"] for row in rows]
                print(
                    f"\nMiniLM fine-tuned on {args.minilm_tokens} tokens, {per_class} per topic: "
                    f"{[round(a, 4) for a in accuracies]} (seeds {seeds}), mean {np.mean(accuracies):.4f}, "
                    f"{np.mean([row['seconds'] for row in rows]):.0f} s per run"
                )
        return 0

    seed_everything(seeds[0])
    started = time.perf_counter()
    encoder = lesson.SmallEncoder(
        len(vocabulary), plan.sequence_length, plan.width, plan.layers, plan.heads, plan.dropout
    )
    mlm_model, history = lesson.pretrain_mlm(encoder, train.ids[unlabelled], plan, seeds[0])
    print(
        f"\nsmall encoder ({encoder.count_params():,} parameters, vocabulary {len(vocabulary):,}) pretrained on "
        f"{len(unlabelled)} stories in {time.perf_counter() - started:.0f} s: MLM loss per epoch "
        f"{np.round(history['loss'], 3).tolist()}, accuracy {history['accuracy'][-1]:.3f}",
        flush=True,
    )
    test_vectors = lesson.sentence_embeddings(backbone, story_preprocessor, test.texts)

    rows = []
    for seed in seeds:
        for per_class in plan.labels_per_class:
            found = lesson.compare_small_encoders(mlm_model.encoder, train, test, len(topics), per_class, plan, seed)
            found.append(
                lesson.frozen_minilm_row(backbone, story_preprocessor, train, test_vectors, test, per_class, seed)
            )
            if per_class in plan.minilm_labels_per_class:
                found.append(
                    lesson.fine_tuned_minilm_row(model_folder, train, test, len(topics), per_class, plan, seed)
                )
            for row in found:
                print(
                    f"  seed {seed:>2}  {per_class:>3} per topic  {row['approach']:<38} "
                    f"{row['test accuracy']:.4f}  {row['seconds']:6.1f} s",
                    flush=True,
                )
            rows += [{**row, "seed": seed} for row in found]
    results = pd.DataFrame(rows)
    summary = results.groupby(["per topic", "approach"])["test accuracy"].agg(["mean", "min", "max"])
    summary["mean seconds"] = results.groupby(["per topic", "approach"])["seconds"].mean()
    print(f"\nR8 test accuracy ({len(test.texts)} stories, {mode} mode), over seeds {seeds}\n")
    print(summary.round(4).to_string())
    print("\nlabel-efficiency table (mean test accuracy; rows: approach, columns: labelled stories per topic)\n")
    print(summary["mean"].unstack(0).round(4).to_string())

    retrieval = retrieval_table(backbone, tokenizer)
    print("\nretrieval chatbot, held-out paraphrases\n")
    print(retrieval.round(3).to_string())

    means = summary["mean"]
    met = bool(retrieval.loc["MiniLM", "top-1"] > retrieval.loc["TF-IDF", "top-1"])
    print(f"\nMiniLM top-1 {retrieval.loc['MiniLM', 'top-1']:.3f} vs TF-IDF {retrieval.loc['TF-IDF', 'top-1']:.3f}")
    lowest = float(means.min())
    floor = by_mode(mode, fast=0.4, full=0.6)
    print(f"lowest mean accuracy {lowest:.4f} ({means.idxmin()}) (target > {floor})")
    met &= lowest > floor
    if mode == "full":
        fewest = min(plan.labels_per_class)
        gain = means[(fewest, "small encoder, pretrained, fine-tuned")] - means[(fewest, "small encoder, scratch")]
        print(f"small encoder pretrained, fine-tuned minus scratch at {fewest} per topic: {100 * gain:+.1f} points")
        met &= gain > 0
        if 50 in plan.minilm_labels_per_class:
            margin = means[(50, "MiniLM, fine-tuned")] - means[(50, "TF-IDF + LR")]
            print(f"fine-tuned MiniLM minus TF-IDF + LR at 50 per topic: {100 * margin:+.1f} points")
            met &= margin > 0
    print(f"targets: {'met' if met else 'NOT met'}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}  (other work on the machine inflates the times)")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
