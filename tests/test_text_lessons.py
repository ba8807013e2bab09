"""helpers.lessons.text, the lesson code of notebook 07 that benchmarks/text.py reuses, on tiny inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coursetools import export
from helpers.datasets.text import TextSplit, WordVectors
from helpers.lessons import text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07_text.ipynb"
STORIES = [
    "oil prices rose as crude output fell",
    "crude oil barrels opec output",
    "net profit rose to mln dlrs",
    "quarterly net loss per share",
    "wheat exports tonnes grain harvest",
    "grain wheat tonnes corn",
]
TOPICS = np.array([0, 0, 1, 1, 2, 2])


def test_the_generated_module_is_the_notebooks_export_cells() -> None:
    assert export.render(NOTEBOOK) == (ROOT / "helpers" / "lessons" / "text.py").read_text(encoding="utf-8"), (
        "helpers/lessons/text.py is stale: run make export"
    )


def test_plans_fast_is_smaller_than_full() -> None:
    fast, full = text.text_plan("fast"), text.text_plan("full")
    assert fast.train_documents is not None and full.train_documents is None
    assert fast.sequence_length < full.sequence_length and fast.recurrent_epochs < full.recurrent_epochs
    assert len(full.tfidf_c_values) > 1 and len(fast.tfidf_c_values) == 1


def test_training_subset_draws_without_repeats_in_the_original_order() -> None:
    split = TextSplit([f"story {i}" for i in range(10)], [str(i % 2) for i in range(10)], [], [])
    texts, labels = text.training_subset(split, 4, seed=3)
    numbers = [int(story.split()[1]) for story in texts]
    assert len(set(numbers)) == 4 and numbers == sorted(numbers)
    assert labels == [str(number % 2) for number in numbers]
    assert text.training_subset(split, None, seed=3)[0] == split.train_texts


def test_text_dataset_vectorises_pads_and_keeps_every_story() -> None:
    vectorizer = text.make_vectorizer(STORIES, max_tokens=50, sequence_length=8)
    dataset = text.text_dataset(STORIES, TOPICS, vectorizer, batch_size=4, shuffle_seed=1)
    assert int(dataset.cardinality()) == 2
    batches = list(dataset)
    ids = np.concatenate([batch[0].numpy() for batch in batches])
    labels = np.concatenate([batch[1].numpy() for batch in batches])
    assert ids.shape == (6, 8) and sorted(labels.tolist()) == sorted(TOPICS.tolist())
    assert (ids[:, -1] == 0).all(), "short stories end in padding"
    ordered = np.concatenate([batch[1].numpy() for batch in text.text_dataset(STORIES, TOPICS, vectorizer, 4)])
    assert ordered.tolist() == TOPICS.tolist()


@pytest.mark.parametrize("kind", ["average", "glove", "lstm", "gru"])
def test_models_ignore_padding(kind: str) -> None:
    import keras

    keras.utils.set_random_seed(0)
    if kind == "average":
        model = text.build_average_embedding_model(20, 3, 4)
    elif kind == "glove":
        matrix = np.random.default_rng(0).normal(size=(20, 5)).astype("float32")
        model = text.build_average_embedding_model(20, 3, 5, embedding_matrix=matrix, hidden_units=4)
        embedding = model.get_layer("embedding")
        assert not embedding.trainable and np.allclose(embedding.embeddings.numpy(), matrix)
    else:
        model = text.build_recurrent_model(kind, 20, 3, 4, 3)
    ids = np.array([[5, 7, 2, 9]])
    padded = np.array([[5, 7, 2, 9, 0, 0, 0]])
    np.testing.assert_allclose(model(padded).numpy(), model(ids).numpy(), atol=1e-6)


def test_recurrent_model_parameters_and_kinds() -> None:
    model = text.build_recurrent_model("lstm", 30, 4, 6, 5)
    lstm = 2 * 4 * (5 * (6 + 5) + 5)
    assert model.count_params() == 30 * 6 + lstm + (2 * 5 * 4 + 4)
    with pytest.raises(ValueError, match="'lstm' or 'gru'"):
        text.build_recurrent_model("rnn", 30, 4, 6, 5)


def test_fit_classifier_learns_a_separable_task() -> None:
    import keras

    keras.utils.set_random_seed(0)
    vectorizer = text.make_vectorizer(STORIES, max_tokens=50, sequence_length=8)
    dataset = text.text_dataset(STORIES * 8, np.tile(TOPICS, 8), vectorizer, batch_size=8, shuffle_seed=0)
    run = text.fit_classifier(text.build_average_embedding_model(50, 3, 8), dataset, epochs=15, learning_rate=5e-2)
    assert run.seconds > 0 and len(run.history["loss"]) == 15
    assert run.history["loss"][-1] < run.history["loss"][0]
    assert run.model.evaluate(dataset, verbose=0)[1] == 1.0


def test_tfidf_baseline_chooses_c_on_validation_and_counts_its_weights() -> None:
    texts, labels = STORIES * 10, np.tile(TOPICS, 10)
    baseline = text.fit_tfidf_baseline(texts, labels, (0.01, 100.0), seed=0)
    assert set(baseline.validation_accuracy) == {0.01, 100.0}
    assert baseline.c == max(baseline.validation_accuracy, key=lambda c: baseline.validation_accuracy[c])
    assert baseline.model.score(STORIES, TOPICS) == 1.0
    features = len(baseline.model[0].get_feature_names_out())
    assert baseline.parameters == 3 * features + 3
    single = text.fit_tfidf_baseline(texts, labels, (10.0,), seed=0)
    assert single.c == 10.0 and single.validation_accuracy == {}


def test_nearest_words_and_analogies_leave_out_the_input_words() -> None:
    words = ["king", "queen", "man", "woman", "apple"]
    vectors = np.array(
        [[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [0.0, 1.0, 0.1], [0.0, -1.0, 0.1], [0.0, 0.0, 1.0]], dtype=np.float32
    )
    glove = WordVectors(words, vectors)
    assert text.nearest_words(glove, glove["king"], 1)[0][0] == "king"
    assert text.nearest_words(glove, glove["king"], 1, exclude=["king"])[0][0] != "king"
    answers = text.analogy(glove, "king", "man", "woman", k=2)
    assert answers[0][0] == "queen" and {"king", "man", "woman"}.isdisjoint(word for word, _ in answers)
    with pytest.raises(KeyError, match="not in the vocabulary: prince"):
        text.analogy(glove, "prince", "man", "woman")


def test_word_order_passages_reverse_half_of_the_passages_and_keep_their_words() -> None:
    stories = [" ".join(f"w{story}_{i}" for i in range(10)) for story in range(40)]
    texts, labels = text.word_order_passages(stories, 4, None, seed=0)
    assert len(texts) == 80 and set(labels.tolist()) == {0, 1}, "two passages of 4 words per 10-word story"
    assert 0.3 < labels.mean() < 0.7
    for passage, backwards in zip(texts, labels, strict=True):
        words = passage.split()
        indices = [int(word.split("_")[1]) for word in words]
        assert indices == (sorted(indices, reverse=True) if backwards else sorted(indices)), passage
        assert indices[-1] - indices[0] == (-3 if backwards else 3), "consecutive words of one story"
    drawn, _ = text.word_order_passages(stories, 4, 25, seed=0)
    assert len(drawn) == 25 and len(set(drawn)) == 25


def test_a_bag_of_words_cannot_tell_a_passage_from_its_reversal_but_word_pairs_can() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, labels = text.word_order_passages(STORIES, 4, None, seed=1)
    words = [passage.split() for passage in texts]
    forwards = [" ".join(passage[::-1] if flag else passage) for passage, flag in zip(words, labels, strict=True)]
    reversed_texts = [" ".join(passage.split()[::-1]) for passage in forwards]
    single = TfidfVectorizer().fit(forwards)
    assert np.array_equal(single.transform(forwards).toarray(), single.transform(reversed_texts).toarray())
    # The argument fails where the features see order: word pairs (bigrams) differ when reversed.
    pairs = TfidfVectorizer(ngram_range=(2, 2)).fit(forwards + reversed_texts)
    assert not np.array_equal(pairs.transform(forwards).toarray(), pairs.transform(reversed_texts).toarray())
