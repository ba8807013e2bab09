"""Model compression as notebook 15 does it: pruning, distillation and quantization on one size-speed-accuracy table.

The notebook's own code (``helpers.lessons.compression``, exported from its cells). For each seed it trains
notebook 03's MLP with 03's recipe, prunes it by magnitude at every sparsity of the plan (one-shot, and gradually
while fine-tuning), removes whole units (structured pruning) and fine-tunes the narrower MLP, distils 03's CNN into
a small MLP against the same MLP on the labels, converts the models to LiteRT (float32, dynamic range, int8) and
measures each file as notebook 06 does: bytes raw and after gzip, median milliseconds for one image and for 64 on
one interpreter thread, accuracy on the 10,000 test digits. The CNN teacher is trained once (seed 42). Then the
few-label text setting: R8 with 10 labelled stories per topic (drawn by the seed), a teacher made of MiniLM's
sentence vectors (all stories embedded once) and a logistic regression on those 80 stories, and three TF-IDF
students with the same steps: on the 80 labels, on the teacher's top answers, on its soft labels.

Targets (issue 39, full mode, over the seeds, default 42, 1, 2; the mean against the target, the worst seed
against the floor or ceiling):
- 90 % unstructured sparsity loses at most 0.5 points (ceiling 0.8), and its gzip file is at most 1/4 of the
  dense one's (ceiling 0.3); its 64-image latency ratio (dense / pruned) stays at most 1.25 (no real speed-up);
- structured pruning is at least 1.5× faster on 64 images (floor 1.3) and loses at most 1 point (ceiling 1.5);
- distillation: the MNIST student on soft labels is not worse than on hard labels (mean ≥ 0, floor −0.3 points);
  on R8 the soft-label student beats the few-label one by at least 1 point (floor 0);
- the smallest model on the size-accuracy front is at most 1/20 of the MLP's bytes, within 1.5 points (ceiling 2).

    python benchmarks/compression.py --check             # COURSE_MODE (default full), seeds 42, 1, 2
    python benchmarks/compression.py --fast --seeds 42   # a quick look
"""

from __future__ import annotations

import sys
import time

from helpers import results
from helpers.mode import course_mode

TARGETS = {  # figure: (target, floor or ceiling, at most)
    "unstructured 90 %: accuracy lost (points)": (0.5, 0.8, True),
    "unstructured 90 %: gzip bytes / dense gzip bytes": (0.25, 0.3, True),
    "unstructured 90 %: 64-image speed-up": (1.25, 1.25, True),
    "structured: 64-image speed-up": (1.5, 1.3, False),
    "structured: accuracy lost (points)": (1.0, 1.5, True),
    "MNIST: distilled minus hard labels (points)": (0.0, -0.3, False),
    "R8: soft labels minus few labels (points)": (1.0, 0.0, False),
    "smallest on the front: bytes / MLP bytes": (0.05, 0.05, True),
    "smallest on the front: accuracy lost (points)": (1.5, 2.0, True),
}


def text_setting(plan):
    """R8's training stories (all of them, in fast mode too) with their labels, MiniLM sentence vectors and TF-IDF
    features, and the plan's test stories: computed once for every seed."""
    import keras_hub
    import numpy as np

    from helpers.datasets.registry import fetch
    from helpers.datasets.text import load_r8
    from helpers.lessons import compression as lesson
    from helpers.lessons.encoders import random_subset, sentence_embeddings

    r8 = load_r8()
    topics = sorted(set(r8.train_labels))
    labels = np.array([topics.index(label) for label in r8.train_labels])
    tested = random_subset(len(r8.test_texts), plan.test_stories, 42)
    test_texts = [r8.test_texts[i] for i in tested]
    test_topics = np.array([topics.index(r8.test_labels[i]) for i in tested])
    folder = str(fetch("all_minilm_l6_v2") / "model")
    minilm = keras_hub.models.BertBackbone.from_preset(folder)
    reader = keras_hub.models.BertTextClassifierPreprocessor(
        keras_hub.models.BertTokenizer.from_preset(folder), sequence_length=plan.sequence_length
    )
    started = time.perf_counter()
    vectors = sentence_embeddings(minilm, reader, r8.train_texts)
    test_vectors = sentence_embeddings(minilm, reader, test_texts)
    features, test_features = lesson.tfidf_features(r8.train_texts, [r8.train_texts, test_texts])
    seconds = time.perf_counter() - started
    print(f"R8: {len(labels):,} training and {len(tested):,} test stories embedded in {seconds:.0f} s")
    return labels, vectors, test_vectors, features, test_features, test_topics


def text_figures(setting, plan, seed: int) -> dict[str, float]:
    """One seed of the few-label text setting: the teacher and the three students' test accuracies."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from helpers.lessons import compression as lesson
    from helpers.lessons.encoders import per_class_sample

    labels, vectors, test_vectors, features, test_features, test_topics = setting
    labelled = per_class_sample(labels, plan.labels_per_topic, seed)
    probe = LogisticRegression(C=10.0, max_iter=2000).fit(vectors[labelled], labels[labelled])
    students = lesson.distil_text(features, labelled, labels[labelled], probe.decision_function(vectors), plan, seed)
    figures = {f"R8: {arm}": lesson.accuracy_of(model, test_features, test_topics) for arm, model in students.items()}
    figures["R8: teacher (MiniLM + LR)"] = float(np.mean(probe.predict(test_vectors) == test_topics))
    figures["R8: soft labels minus few labels (points)"] = 100 * (
        figures["R8: soft labels"] - figures["R8: few labels"]
    )
    figures["R8: soft labels minus top answers (points)"] = 100 * (
        figures["R8: soft labels"] - figures["R8: teacher's top answers"]
    )
    return figures


def mnist_figures(teacher_logits, plan, mode: str, seed: int) -> dict[str, float]:
    """One seed of the MNIST part: the table of every compressed model, and the figures the targets read."""
    import keras
    import pandas as pd

    from helpers.datasets.registry import load_mnist
    from helpers.lessons import compression as lesson
    from helpers.lessons.mnist import fit_mnist_model, mnist_train_size

    (images, labels), (test_images, test_labels) = load_mnist()
    images, labels = images[: mnist_train_size(mode)], labels[: mnist_train_size(mode)]
    keras.utils.set_random_seed(seed)
    mlp = fit_mnist_model("mlp", mode, shuffle_seed=seed).model
    figures = {}
    for sparsity in plan.sparsities:
        figures[f"one-shot {sparsity:.0%}: accuracy"] = lesson.accuracy_of(
            lesson.prune_once(mlp, sparsity), test_images, test_labels
        )
    gradual = {s: lesson.prune_gradually(mlp, images, labels, s, plan, seed) for s in plan.gradual_sparsities}
    for sparsity, model in gradual.items():
        figures[f"gradual {sparsity:.0%}: accuracy"] = lesson.accuracy_of(model, test_images, test_labels)
    narrow = lesson.shrink_mlp(mlp, plan.kept_units)
    keras.utils.set_random_seed(seed)
    narrow = lesson.fine_tune(
        narrow, images, labels, epochs=plan.shrink_epochs, learning_rate=plan.fine_tune_learning_rate, seed=seed
    )
    students = lesson.distil_mnist(teacher_logits, images, labels, plan, seed)
    models = {
        "MLP": (mlp, "float32"),
        "MLP, dynamic": (mlp, "dynamic"),
        "MLP, int8": (mlp, "int8"),
        "unstructured 90 %": (gradual[0.9], "float32"),
        "structured": (narrow, "float32"),
        "structured, int8": (narrow, "int8"),
        "student, hard labels": (students["hard labels"], "float32"),
        "student, distilled": (students["distilled"], "float32"),
        "student, distilled, int8": (students["distilled"], "int8"),
    }
    rows = [
        lesson.deployed_row(
            name, lesson.litert_bytes(model, quantization, images[:200]), test_images, test_labels, plan.latency_repeats
        )
        for name, (model, quantization) in models.items()
    ]
    table = pd.DataFrame(rows).set_index("model")
    print(table.round(4).to_string(), flush=True)
    for name, row in table.iterrows():
        figures |= {f"{name}: {column}": float(value) for column, value in row.items()}
    mlp_row, pruned, structured = table.loc["MLP"], table.loc["unstructured 90 %"], table.loc["structured"]
    smallest = lesson.pareto_front(table).iloc[0]
    figures |= {
        "unstructured 90 %: accuracy lost (points)": 100 * (mlp_row["accuracy"] - pruned["accuracy"]),
        "unstructured 90 %: gzip bytes / dense gzip bytes": pruned["gzip bytes"] / mlp_row["gzip bytes"],
        "unstructured 90 %: 64-image speed-up": mlp_row["ms, 64 images"] / pruned["ms, 64 images"],
        "structured: 64-image speed-up": mlp_row["ms, 64 images"] / structured["ms, 64 images"],
        "structured: accuracy lost (points)": 100 * (mlp_row["accuracy"] - structured["accuracy"]),
        "MNIST: distilled minus hard labels (points)": 100
        * (table.loc["student, distilled", "accuracy"] - table.loc["student, hard labels", "accuracy"]),
        "smallest on the front: bytes / MLP bytes": smallest["bytes"] / mlp_row["bytes"],
        "smallest on the front: accuracy lost (points)": 100 * (mlp_row["accuracy"] - smallest["accuracy"]),
    }
    print(f"  smallest on the front: {smallest.name}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = results.benchmark_parser("compression", __doc__).parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = args.seeds

    import keras
    import numpy as np

    from helpers.datasets.registry import load_mnist
    from helpers.lessons import compression as lesson
    from helpers.lessons.mnist import fit_mnist_model, mnist_train_size

    version = results.code_version()  # the code that runs, read before the training
    plan = lesson.compression_plan(mode)
    print(results.run_header(mode, seeds))
    print(plan, flush=True)
    (images, _), (test_images, test_labels) = load_mnist()
    started = time.perf_counter()
    keras.utils.set_random_seed(42)
    teacher = fit_mnist_model("cnn", mode, shuffle_seed=42).model
    teacher_logits = np.log(np.clip(teacher.predict(images[: mnist_train_size(mode)], verbose=0), 1e-7, 1.0))
    teacher_accuracy = lesson.accuracy_of(teacher, test_images, test_labels)
    print(f"teacher (03's CNN, seed 42): {teacher_accuracy:.4f} ({time.perf_counter() - started:.0f} s)", flush=True)
    setting = text_setting(plan)
    per_seed: dict[int, dict[str, float]] = {}
    for seed in seeds:
        started = time.perf_counter()
        print(f"\nseed {seed}", flush=True)
        per_seed[seed] = {"MNIST teacher: accuracy": teacher_accuracy}
        per_seed[seed] |= mnist_figures(teacher_logits, plan, mode, seed)
        per_seed[seed] |= text_figures(setting, plan, seed)
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)

    results.print_over_seeds(per_seed, seeds)
    targets = results.targets_over_seeds(TARGETS, per_seed, seeds)
    return results.finish("compression", mode, seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
