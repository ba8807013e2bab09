"""Text classification as notebook 07 runs it: TF-IDF + LR, averaged embeddings, bidirectional LSTM and GRU.

The same code as the notebook (``helpers.lessons.text``, generated from its cells tagged ``export``),
on Reuters R8 (5,485 training and 2,189 test stories, 8 topics):

* TF-IDF + LR: TF-IDF features and a logistic regression (C chosen on a validation split in full mode);
* TF-IDF + LR (same tokens): the same, fitted on exactly the tokens the networks read (each story's first
  ``sequence_length`` tokens, out-of-vocabulary words as ``[UNK]``), so that the comparison is on equal text;
* averaged embeddings (learned): Embedding, masked average, softmax, trained end to end;
* averaged GloVe (frozen): GloVe 6B 50-d vectors for the vocabulary, frozen, masked average, one hidden layer;
* bidirectional LSTM and GRU: Embedding, Bidirectional(LSTM or GRU), masked, softmax.

It prints one table per seed (test accuracy, training seconds, parameters) and, for several seeds,
the mean. Then word order (issue 37): passages of 16 consecutive words cut from the stories, each read
forwards or backwards at random (a task built from R8's real text: a bag of words sees the same input
either way); TF-IDF + LR and the bidirectional LSTM and GRU trained on the training stories' passages and
tested on the test stories', per seed (``word_order_comparison``, figures named "word order ...").
Training seconds are this machine's: ``fit`` alone for the networks, the fit including the choice of C
for TF-IDF + LR.

Targets over the seeds (default 42, 1, 2), each network's gap to TF-IDF + LR per seed: full mode, the
best network (by mean accuracy) within 1 point of TF-IDF + LR or above on the mean, within 2 points
on its worst seed; fast mode, within 5 points on the mean and 7 on the worst seed; both modes: every
model at least 20 points above the majority class (49.5 %) on every seed, and "queen" among the 3
words closest to king - man + woman in GloVe (input words excluded). With ``--check`` the figures go
to ``benchmarks/results/text_MODE.json`` (:mod:`helpers.results`). Word order, both modes: the better
recurrent network (by mean accuracy) at least 10 points above TF-IDF + LR on the mean (the issue's target),
at least 5 on its worst seed (the floor).

    python benchmarks/text.py --check          # COURSE_MODE (default full), seeds 42, 1, 2
    python benchmarks/text.py --fast --seeds 42  # a quick look (about a minute)
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from helpers import results
from helpers.mode import by_mode, course_mode

if TYPE_CHECKING:
    import pandas as pd

    from helpers.datasets.text import TextSplit, WordVectors
    from helpers.lessons.text import TextPlan

BASELINE = "TF-IDF + LR"
SAME_TOKENS = "TF-IDF + LR (same tokens)"
MAJORITY_MARGIN = 0.20  # every model at least this far above the majority class
MIN_ORDER_GAIN = 0.10  # word order: the better recurrent network over TF-IDF + LR, mean over the seeds
FLOOR_ORDER_GAIN = 0.05  # the same on the worst seed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = results.benchmark_parser("text", __doc__, seeds="42,1,2")
    return parser.parse_args(argv)


def run_once(plan: TextPlan, r8: TextSplit, glove: WordVectors, seed: int) -> pd.DataFrame:
    """Train and evaluate the five models of notebook 07 for one seed: the notebook's results table."""
    import keras
    import pandas as pd

    from helpers.datasets.text import embedding_matrix
    from helpers.lessons import text
    from helpers.seeding import seed_everything

    seed_everything(seed)
    train_texts, train_labels = text.training_subset(r8, plan.train_documents, seed)
    y_train = r8.label_ids(train_labels)
    y_test = r8.label_ids(r8.test_labels)
    vectorizer = text.make_vectorizer(train_texts, plan.max_tokens, plan.sequence_length)
    vocabulary = [str(word) for word in vectorizer.get_vocabulary()]
    train = text.text_dataset(train_texts, y_train, vectorizer, plan.batch_size, shuffle_seed=seed)
    test = text.text_dataset(r8.test_texts, y_test, vectorizer, 512)
    classes = len(r8.class_names)
    print(f"\nseed {seed}: {len(train_texts)} training stories, vocabulary {len(vocabulary)}", flush=True)

    rows = []
    tfidf = text.fit_tfidf_baseline(train_texts, y_train, plan.tfidf_c_values, seed)
    rows.append((BASELINE, float(tfidf.model.score(r8.test_texts, y_test)), tfidf.seconds, tfidf.parameters))
    print(f"  {BASELINE}: C = {tfidf.c}, validation accuracy per C {tfidf.validation_accuracy}", flush=True)
    same = text.fit_tfidf_baseline(text.vectorized_words(vectorizer, train_texts), y_train, plan.tfidf_c_values, seed)
    same_accuracy = float(same.model.score(text.vectorized_words(vectorizer, r8.test_texts), y_test))
    rows.append((SAME_TOKENS, same_accuracy, same.seconds, same.parameters))

    matrix, coverage = embedding_matrix(vocabulary, glove)
    builders = {
        "averaged embeddings (learned)": lambda: text.build_average_embedding_model(
            len(vocabulary), classes, plan.embedding_dim
        ),
        "averaged GloVe (frozen)": lambda: text.build_average_embedding_model(
            len(vocabulary), classes, glove.dimension, embedding_matrix=matrix, hidden_units=64, name="average_glove"
        ),
        "bidirectional LSTM": lambda: text.build_recurrent_model(
            "lstm", len(vocabulary), classes, plan.embedding_dim, plan.recurrent_units
        ),
        "bidirectional GRU": lambda: text.build_recurrent_model(
            "gru", len(vocabulary), classes, plan.embedding_dim, plan.recurrent_units
        ),
    }
    for name, build in builders.items():
        keras.utils.set_random_seed(seed)
        recurrent = name.startswith("bidirectional")
        epochs = plan.recurrent_epochs if recurrent else plan.average_epochs
        rate = plan.recurrent_learning_rate if recurrent else plan.average_learning_rate
        run = text.fit_classifier(build(), train, epochs, rate)
        accuracy = float(run.model.evaluate(test, verbose=0)[1])
        rows.append((name, accuracy, run.seconds, run.model.count_params()))
        print(f"  {name}: {accuracy:.2%} after {epochs} epochs in {run.seconds:.1f} s", flush=True)
    print(f"  (GloVe covers {coverage:.1%} of the vocabulary)")
    table = pd.DataFrame(rows, columns=["model", "test accuracy", "training seconds", "parameters"]).set_index("model")
    print(table.round({"test accuracy": 4, "training seconds": 1}).to_string(), flush=True)
    return table


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = args.seeds

    import pandas as pd

    from helpers.datasets.text import load_glove, load_r8
    from helpers.lessons import text

    version = results.code_version()  # the code that runs, read before the training
    plan = text.text_plan(mode)
    print(results.run_header(mode, seeds))
    print(plan)
    r8, glove = load_r8(), load_glove()
    majority = max(r8.test_labels.count(label) for label in r8.class_names) / len(r8.test_labels)
    tables = [run_once(plan, r8, glove, seed) for seed in seeds]

    accuracies = pd.concat([table["test accuracy"] for table in tables], axis=1, keys=seeds)
    seconds = pd.concat([table["training seconds"] for table in tables], axis=1, keys=seeds)
    summary = pd.DataFrame(
        {
            "mean accuracy": accuracies.mean(axis=1),
            "min": accuracies.min(axis=1),
            "max": accuracies.max(axis=1),
            "mean seconds": seconds.mean(axis=1),
            "parameters": tables[0]["parameters"],
        }
    )
    print(f"\nReuters R8 test set ({len(r8.test_labels)} stories, {mode} mode), mean over {len(seeds)} seed(s)\n")
    print(summary.round({"mean accuracy": 4, "min": 4, "max": 4, "mean seconds": 1}).to_string())

    mean = summary["mean accuracy"]
    best_network = mean.drop([BASELINE, SAME_TOKENS]).idxmax()
    gaps = accuracies.loc[best_network] - accuracies.loc[BASELINE]  # per seed, negative when behind
    above_majority = accuracies.min(axis=0) - majority  # per seed, the weakest model's lead
    answers = text.analogy(glove, "king", "man", "woman", k=3)
    words = [word for word, _ in answers]
    per_seed = {
        seed: {f"{model} test accuracy": float(accuracies.loc[model, seed]) for model in accuracies.index}
        | {f"{best_network} minus {BASELINE}": float(gaps[seed])}
        for seed in seeds
    }
    print(f"\nword order (passages of {plan.order_passage_length} words, forwards or backwards; chance 50 %)")
    order = {}
    for seed in seeds:
        train_stories, _ = text.training_subset(r8, plan.train_documents, seed)
        order[seed] = text.word_order_comparison(plan, train_stories, r8.test_texts, seed)
        print(
            f"  seed {seed:>2}  " + "   ".join(f"{name} {value:.4f}" for name, value in order[seed].items()), flush=True
        )
    order_table = pd.DataFrame(order)
    print(order_table.agg(["mean", "min", "max"], axis=1).round(4).to_string())
    best_order = order_table.drop(BASELINE).mean(axis=1).idxmax()
    order_gains = order_table.loc[best_order] - order_table.loc[BASELINE]
    for seed in seeds:
        per_seed[seed] |= {f"word order: {name} test accuracy": value for name, value in order[seed].items()}
        per_seed[seed][f"word order: {best_order} minus {BASELINE}"] = float(order_gains[seed])
    goal, floor = by_mode(mode, fast=(-0.05, -0.07), full=(-0.01, -0.02))
    targets = {
        f"best network ({best_network}) at most {-100 * goal:.0f} point(s) below {BASELINE} "
        f"(floor {-100 * floor:.0f})": results.target(gaps, goal, floor),
        f"every model at least {100 * MAJORITY_MARGIN:.0f} points above the majority class ({majority:.1%})": (
            results.target(above_majority, MAJORITY_MARGIN, MAJORITY_MARGIN)
        ),
        "GloVe king - man + woman: 'queen' among the top 3": {"top 3": ", ".join(words), "met": "queen" in words},
        f"word order: {best_order} at least {100 * MIN_ORDER_GAIN:.0f} points above {BASELINE} "
        f"(floor {100 * FLOOR_ORDER_GAIN:.0f})": results.target(order_gains, MIN_ORDER_GAIN, FLOOR_ORDER_GAIN),
    }
    return results.finish("text", mode, seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
