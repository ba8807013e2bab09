"""Exercise checks of notebook 09 (pretrained encoders): whole-word masking, cosine top-k, and build exercise 3,
contrastive fine-tuning of a sentence encoder with in-batch negatives."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpers.exercises import ExerciseIncorrect, call_answer, expect, passed, require_answer

MASKING_STORY = (  # WordPiece pieces of a short story, separated by spaces: three words are cut in pieces
    "[CLS] oil prices rose sharp ##ly after opec ministers agreed to cut out ##put , traders said [SEP] "
    "the un ##ex ##pected move sent brent crude to a four - month high [SEP] [PAD] [PAD] [PAD]"
)
MASKING_TOKENS = MASKING_STORY.split()
SPECIAL = {"[CLS]", "[SEP]", "[PAD]"}
MASKING_CALLS = 3000  # enough calls that a rate off by 0.03 is about 9 standard errors away


def words_of(tokens: list[str]) -> list[list[int]]:
    """The positions of each word: a piece not starting with ## and the ## pieces after it; no special tokens."""
    words: list[list[int]] = []
    for position, token in enumerate(tokens):
        if token in SPECIAL:
            continue
        if token.startswith("##") and words and words[-1][-1] == position - 1:
            words[-1].append(position)
        else:
            words.append([position])
    return words


def check_whole_word_masking(answer: Any) -> str:
    """Exercise 1: ``choose(tokens, rate, rng)``: a boolean per token, whole words chosen with probability ``rate``."""
    exercise = "Exercise 1 (whole-word masking)"
    tokens, rate = list(MASKING_TOKENS), 0.15
    rng = np.random.default_rng(11)
    called_on = f"the {len(tokens)} tokens of a story, rate 0.15 and a NumPy Generator"
    draws = []
    for _ in range(MASKING_CALLS):
        result = call_answer(answer, exercise, called_on, tokens, rate, rng)
        try:
            chosen = np.asarray(result, dtype=bool)
        except (TypeError, ValueError) as error:
            raise ExerciseIncorrect(f"{exercise}: return an array of booleans, got {result!r}") from error
        expect(
            chosen.shape == (len(tokens),),
            f"{exercise}: return one boolean per token, shape ({len(tokens)},); yours is {chosen.shape}.",
        )
        draws.append(chosen)
    chosen = np.array(draws)
    expect(
        len({row.tobytes() for row in chosen}) > 1,
        f"{exercise}: every call chose the same tokens: draw them "
        "with the generator you are given (rng.random(...)), not a fixed choice or a new seed each time.",
    )
    special = np.array([token in SPECIAL for token in tokens])
    expect(not chosen[:, special].any(), f"{exercise}: [CLS], [SEP] and [PAD] must never be chosen.")
    words = words_of(tokens)
    split = [positions for positions in words if len(positions) > 1]
    for positions in split:
        pieces = chosen[:, positions]
        expect(
            (pieces == pieces[:, :1]).all(),
            f"{exercise}: the pieces of '{''.join(tokens[p].removeprefix('##') for p in positions)}' "
            f"({', '.join(tokens[p] for p in positions)}) were not always chosen together: a ## piece belongs "
            "to the word before it.",
        )
    word_rate = chosen[:, [positions[0] for positions in words]].mean()
    expect(
        abs(word_rate - rate) < 0.03,
        f"{exercise}: {word_rate:.1%} of the words were chosen, over {MASKING_CALLS} calls; expected about "
        f"{rate:.0%}. Choose each word (not each piece) with probability rate.",
    )
    long_word_rate = chosen[:, [positions[0] for positions in split]].mean()
    expect(
        abs(long_word_rate - rate) < 0.03,
        f"{exercise}: words of several pieces were chosen {long_word_rate:.1%} of the time, the others "
        f"{word_rate:.1%}: a word must have the same chance whatever its number of pieces (did you choose pieces "
        "and then extend the choice to their words?).",
    )
    return passed(exercise)


def cosine_case() -> tuple[np.ndarray, np.ndarray]:
    """Queries (3, 6) and a corpus (20, 6) of vectors of very different lengths (not normalised)."""
    rng = np.random.default_rng(10)
    corpus = rng.normal(size=(20, 6)) * rng.uniform(0.1, 10.0, size=(20, 1))
    queries = rng.normal(size=(3, 6)) * np.array([[0.5], [3.0], [20.0]])
    return queries, corpus


def check_cosine_top_k(answer: Any) -> str:
    """Exercise 2: ``top_k(queries, corpus, k)``: indices of the k corpus rows nearest in cosine, nearest first."""
    exercise = "Exercise 2 (cosine top-k)"
    queries, corpus = cosine_case()
    k = 4
    result = call_answer(answer, exercise, "queries (3, 6), a corpus (20, 6) and k = 4", queries, corpus, k)
    try:
        indices = np.asarray(result).astype(int)
    except (TypeError, ValueError) as error:
        raise ExerciseIncorrect(f"{exercise}: return an integer array of indices, got {result!r}") from error
    expect(
        indices.shape == (3, k),
        f"{exercise}: return shape (3, {k}), one row of {k} indices per query; yours is {indices.shape}.",
    )
    unit_queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    unit_corpus = corpus / np.linalg.norm(corpus, axis=1, keepdims=True)
    cosines = unit_queries @ unit_corpus.T
    expected = np.argsort(-cosines, axis=1)[:, :k]
    dot_products = np.argsort(-(queries @ corpus.T), axis=1)[:, :k]
    expect(
        not np.array_equal(indices, dot_products) or np.array_equal(dot_products, expected),
        f"{exercise}: these are the largest dot products: long vectors win whatever their direction. Divide "
        "queries and corpus rows by their lengths first (cosine).",
    )
    expect(
        not np.array_equal(indices, expected[:, ::-1]),
        f"{exercise}: the right {k} rows, in the wrong order: the nearest comes first.",
    )
    expect(
        not np.array_equal(indices, np.argsort(cosines, axis=1)[:, :k]),
        f"{exercise}: these are the {k} LEAST similar rows: sort by decreasing cosine.",
    )
    expect(
        np.array_equal(indices, expected),
        f"{exercise}: for the queries {np.flatnonzero((indices != expected).any(axis=1)).tolist()} the indices are "
        f"not the {k} largest cosines in decreasing order.",
    )
    return passed(exercise)


# Build exercise 3: contrastive fine-tuning with in-batch negatives ------------------------------------------

CONTRASTIVE_TEMPERATURE = 0.05  # sentence-transformers' usual scale of 20


def _in_batch_cross_entropy(a: np.ndarray, b: np.ndarray, temperature: float, *, normalise: bool = True) -> dict:
    """The check's own in-batch-negatives losses: cross-entropy of each row of the (scaled) similarity matrix
    against labels 0..n-1, from a to b, from b to a, and their mean (the symmetric loss)."""
    if normalise:
        a = a / np.linalg.norm(a, axis=1, keepdims=True)
        b = b / np.linalg.norm(b, axis=1, keepdims=True)
    logits = a @ b.T / temperature

    def cross_entropy(rows: np.ndarray) -> float:
        shifted = rows - rows.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-np.mean(np.diag(log_softmax)))

    forward, backward = cross_entropy(logits), cross_entropy(logits.T)
    return {"a to b": forward, "b to a": backward, "symmetric": (forward + backward) / 2}


def _contrastive_case(seed: int = 12, n: int = 8, d: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of embeddings (n, d) pointing nearly the same way, of very different lengths (not normalised)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d))
    b = a + 0.3 * rng.normal(size=(n, d))
    return a * rng.uniform(0.2, 5.0, size=(n, 1)), b * rng.uniform(0.2, 5.0, size=(n, 1))


def _loss_value(loss: Any, a: np.ndarray, b: np.ndarray, temperature: float, exercise: str, what: str) -> float:
    import tensorflow as tf

    result = call_answer(loss, exercise, what, tf.constant(a, tf.float32), tf.constant(b, tf.float32), temperature)
    try:
        value = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ExerciseIncorrect(
            f"{exercise}: the loss should return one number (a scalar tensor), got {result!r}"
        ) from error
    expect(
        value.size == 1, f"{exercise}: the loss should be one number for the batch (a mean), not shape {value.shape}."
    )
    expect(bool(np.isfinite(value)), f"{exercise}: the loss of {what} is {float(value)}, not a finite number.")
    return float(value)


def _check_contrastive_loss(loss: Any, exercise: str) -> None:
    """Judge ``loss(a, b, temperature)`` on the check's own embeddings; raise with the mistake named."""
    tau = CONTRASTIVE_TEMPERATURE
    a, b = _contrastive_case()
    shifted = np.roll(b, 1, axis=0)  # row i's second side is now row i-1's: every pair mismatched
    swapped = _loss_value(loss, a, shifted, tau, exercise, "8 mismatched pairs of embeddings")
    hot = _loss_value(loss, a, shifted, 1.0, exercise, "the same pairs at temperature 1")
    expect(
        abs(hot - swapped) > 1e-3,
        f"{exercise}: your loss does not change with the temperature ({swapped:.4g} at {tau}, {hot:.4g} at 1): divide "
        "the cosine similarities by the temperature before the softmax.",
    )
    expect(
        not any(
            abs(swapped - value) <= 1e-4 * abs(value) for value in _in_batch_cross_entropy(a, shifted, 1 / tau).values()
        ),
        f"{exercise}: you multiply the cosines by the temperature; divide them by it (a small temperature sharpens "
        "the softmax).",
    )
    aligned = _loss_value(loss, a, b, tau, exercise, "8 pairs of embeddings that point nearly the same way")
    lengths = np.random.default_rng(13).uniform(0.1, 10.0, size=(len(a), 1))
    rescaled = _loss_value(loss, a * lengths, b, tau, exercise, "the same pairs with the first side's lengths changed")
    expect(
        abs(rescaled - aligned) < 1e-3 * max(1.0, abs(aligned)),
        f"{exercise}: changing only the lengths of the embeddings changes your loss ({aligned:.4g} -> {rescaled:.4g}): "
        "you compare dot products. Normalise both sides to length 1 first (tf.math.l2_normalize), so that the "
        "similarity matrix holds cosines.",
    )
    # Two batches of 2 pairs with the same matched pairs (same diagonal), but the other pair of the batch either
    # nearly a copy of the first (a hard negative) or pointing the opposite way (an easy one).
    first, second = a[0], b[0]
    hard = _loss_value(
        loss, np.stack([first, first * 1.0001 + 1e-3]), np.stack([second, second * 1.0001 + 1e-3]), tau, exercise,
        "2 pairs that look alike",
    )  # fmt: skip
    easy = _loss_value(
        loss, np.stack([first, -first]), np.stack([second, -second]), tau, exercise, "2 pairs pointing opposite ways"
    )
    expect(
        abs(hard - easy) > 0.1,
        f"{exercise}: your loss is the same ({hard:.3g} vs {easy:.3g}) whether the other pair of the batch looks like "
        "the positive or not: it uses only the matched pairs (the diagonal of the similarity matrix). Every other "
        "example of the batch is a negative: take the cross-entropy of each whole row of the similarity matrix.",
    )
    expect(
        aligned < 0.5 < swapped,
        f"{exercise}: pairs that match give a loss of {aligned:.3g} and mismatched pairs {swapped:.3g}: matching pairs "
        "should give a loss near 0 and mismatched ones a large loss. Row i's positive is column i: the labels are "
        "tf.range(n), one per row, and the loss is the cross-entropy of the similarity matrix against them.",
    )
    for what, (x, y, got) in {"matching pairs": (a, b, aligned), "mismatched pairs": (a, shifted, swapped)}.items():
        right = _in_batch_cross_entropy(x, y, tau)
        if any(abs(got - value) <= 1e-4 * max(1.0, abs(value)) for value in right.values()):
            continue
        raise ExerciseIncorrect(
            f"{exercise}: on {what} your loss is {got:.4g}; the cross-entropy of cosine similarities / temperature "
            f"against labels 0..n-1 gives {right['a to b']:.4g} (rows: first side to second), {right['b to a']:.4g} "
            f"(columns) or {right['symmetric']:.4g} (their mean)."
        )


def check_contrastive_fine_tuning(
    answer: Any,
    *,
    model_folder: Any,
    preprocessor: Any,
    pairs: list[tuple[str, str]],
    questions: list[str],
    asked: list[str],
    targets: np.ndarray,
    blocks: int,
    steps: int,
    min_gain: float,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    seed: int = 0,
) -> dict[str, float]:
    """Build exercise 3: ``answer = (loss, train_step)``. ``loss(a, b, temperature)`` is the in-batch-negatives
    loss of two batches of sentence vectors (row i of ``a`` and of ``b`` a pair); ``train_step(encoder, optimizer,
    first, second, temperature)`` makes one optimiser step of ``encoder`` (preprocessed inputs -> mean-pooled
    vectors) on a batch of pairs and returns the loss.

    The loss is judged on the check's own embeddings (temperature, lengths, negatives, labels, value). Then the
    check cuts a fresh MiniLM from ``model_folder`` to its first ``blocks`` blocks, fine-tunes them (embeddings
    frozen) with ``train_step`` for ``steps`` steps of ``batch_size`` of ``pairs`` (AdamW, ``learning_rate``,
    ``seed``), and requires the mean reciprocal rank of ``targets`` among ``questions`` for the held-out ``asked``
    to rise by ``min_gain``. About 10 s with 12 steps on 2 cores. Returns the retrieval before and after.
    """
    import keras
    import keras_hub
    import tensorflow as tf

    from helpers.lessons.encoders import mean_pool, sentence_embeddings, top_k_accuracy

    exercise = "Build exercise 3 (contrastive fine-tuning with in-batch negatives)"
    require_answer(answer, exercise)
    expect(
        isinstance(answer, tuple) and len(answer) == 2 and all(callable(part) for part in answer),
        f"{exercise}: answer_3 should be the pair of functions (loss, train_step), not {type(answer).__name__}.",
    )
    loss, train_step = answer
    _check_contrastive_loss(loss, exercise)

    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.BertBackbone.from_preset(str(model_folder), num_layers=blocks)
    for layer in backbone.layers:  # the blocks learn; the embeddings (12 of MiniLM's 22 M weights) stay as they are
        layer.trainable = layer.name.startswith("transformer_layer")

    def retrieval() -> dict[str, float]:
        scores = (
            sentence_embeddings(backbone, preprocessor, asked)
            @ sentence_embeddings(backbone, preprocessor, questions).T
        )
        ranks = (scores > scores[np.arange(len(targets)), targets][:, None]).sum(axis=1)
        return {"top-1": top_k_accuracy(scores, targets, 1), "MRR": float(np.mean(1 / (ranks + 1)))}

    before = retrieval()

    class PooledEncoder(keras.Model):
        """Preprocessed inputs -> the mean of the real tokens' vectors (not normalised)."""

        def __init__(self, backbone: keras.Model) -> None:
            super().__init__()
            self.backbone = backbone

        def call(self, inputs: dict, training: bool = False) -> tf.Tensor:
            return mean_pool(self.backbone(inputs, training=training)["sequence_output"], inputs["padding_mask"])

    encoder = PooledEncoder(backbone)
    optimizer = keras.optimizers.AdamW(learning_rate)
    optimizer.build(encoder.trainable_variables)
    step = tf.function(train_step)
    rng = np.random.default_rng(seed)
    first_texts, second_texts = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    losses = []
    for _ in range(steps):
        batch = rng.choice(len(pairs), batch_size, replace=False)
        first = preprocessor([first_texts[i] for i in batch])
        second = preprocessor([second_texts[i] for i in batch])
        try:
            value = step(encoder, optimizer, first, second, CONTRASTIVE_TEMPERATURE)
        except Exception as error:  # the learner's code: report any failure in words
            raise ExerciseIncorrect(
                f"{exercise}: train_step(encoder, optimizer, first, second, temperature) raised "
                f"{type(error).__name__}: {error}"
            ) from error
        losses.append(float(np.asarray(value)))
    expect(bool(np.all(np.isfinite(losses))), f"{exercise}: the training loss became {losses[-1]}: not a number.")
    after = retrieval()
    gain = after["MRR"] - before["MRR"]
    print(
        f"MiniLM cut to {blocks} blocks, {steps} steps of {batch_size} pairs (loss {losses[0]:.2f} -> "
        f"{losses[-1]:.2f}): held-out top-1 {before['top-1']:.0%} -> {after['top-1']:.0%}, "
        f"MRR {before['MRR']:.3f} -> {after['MRR']:.3f}"
    )
    expect(
        gain >= min_gain,
        f"{exercise}: after {steps} training steps the held-out mean reciprocal rank went from {before['MRR']:.3f} to "
        f"{after['MRR']:.3f} ({gain:+.3f}); at least {min_gain:+.3f} expected. Does train_step apply the gradients of "
        "your loss to encoder.trainable_variables, with the encoder called with training=True on both sides?",
    )
    passed(exercise)
    return {"top-1 before": before["top-1"], "top-1 after": after["top-1"], "MRR before": before["MRR"],
            "MRR after": after["MRR"]}  # fmt: skip
