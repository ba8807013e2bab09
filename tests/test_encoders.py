"""Notebook 09's helpers: the chatbot data, the paraphrases, the NumPy BERT, and the exercise checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import minilm_numpy
from helpers.checks import encoders
from helpers.datasets import chatbot as chatbot_data
from helpers.exercises import ExerciseIncorrect


def test_every_paraphrase_means_a_corpus_question_and_is_not_one() -> None:
    questions = {entry.question for entry in chatbot_data.load_question_answers()}
    paraphrases = chatbot_data.load_paraphrases()
    assert len(questions) > 700 and len(paraphrases) >= 40
    assert [p.means for p in paraphrases if p.means not in questions] == []
    assert [p.asks for p in paraphrases if p.asks in questions] == [], "a held-out question must not be in the corpus"
    assert len({p.asks for p in paraphrases}) == len(paraphrases)


def test_question_answers_merge_repeated_questions(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("categories: [x]\nconversations:\n- - Hi\n  - Hello\n- - Hi\n  - Hey\n- - Lonely\n")
    entries = chatbot_data.load_question_answers(tmp_path)
    assert entries == [chatbot_data.QuestionAnswers("Hi", ("Hello", "Hey"), "a")]
    with pytest.raises(FileNotFoundError, match="fetch"):
        chatbot_data.load_question_answers(tmp_path / "empty")


def tiny_bert(width: int = 8, heads: int = 2, layers: int = 2, vocabulary: int = 11) -> minilm_numpy.BertWeights:
    rng = np.random.default_rng(0)
    arrays = {
        "embeddings.word_embeddings.weight": rng.normal(size=(vocabulary, width)),
        "embeddings.position_embeddings.weight": rng.normal(size=(16, width)),
        "embeddings.token_type_embeddings.weight": rng.normal(size=(2, width)),
        "embeddings.LayerNorm.weight": np.ones(width),
        "embeddings.LayerNorm.bias": np.zeros(width),
    }
    for layer in range(layers):
        p = f"encoder.layer.{layer}"
        for name, shape in {
            "attention.self.query": (width, width),
            "attention.self.key": (width, width),
            "attention.self.value": (width, width),
            "attention.output.dense": (width, width),
            "intermediate.dense": (4 * width, width),
            "output.dense": (width, 4 * width),
        }.items():
            arrays[f"{p}.{name}.weight"] = rng.normal(size=shape) / np.sqrt(shape[1])
            arrays[f"{p}.{name}.bias"] = rng.normal(size=shape[0]) * 0.1
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            arrays[f"{p}.{norm}.weight"], arrays[f"{p}.{norm}.bias"] = np.ones(width), np.zeros(width)
    return minilm_numpy.BertWeights(arrays, layers, heads, 1e-12)


def test_numpy_bert_ignores_padding_and_returns_unit_vectors() -> None:
    weights = tiny_bert()
    ids = np.array([[2, 5, 7, 3, 0, 0], [2, 5, 7, 3, 9, 4]])
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 0, 0]])  # the same real tokens, other padding ids
    vectors = minilm_numpy.sentence_embeddings(weights, ids, mask)
    assert vectors.shape == (2, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.allclose(vectors[0], vectors[1], atol=1e-9), "what the padding holds must not change the embedding"
    unmasked = minilm_numpy.sentence_embeddings(weights, ids, np.ones_like(mask))
    assert not np.allclose(unmasked[0], unmasked[1]), "without the mask the padding would count"
    assert not np.allclose(vectors, minilm_numpy.sentence_embeddings(weights, ids, mask, approximate_gelu=True))


def test_gelu_and_its_tanh_approximation() -> None:
    x = np.linspace(-5, 5, 101)
    exact, approximate = minilm_numpy.gelu(x), minilm_numpy.gelu(x, approximate=True)
    assert np.abs(exact - approximate).max() < 1e-3 and exact[50] == 0.0 and exact[-1] == pytest.approx(5.0, abs=1e-5)


def test_missing_checkpoint_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json: fetch"):
        minilm_numpy.load_bert_weights(tmp_path)


def whole_words(tokens, rate, rng):
    chosen = np.zeros(len(tokens), dtype=bool)
    word_chosen = False
    for position, token in enumerate(tokens):
        if token in ("[CLS]", "[SEP]", "[PAD]"):
            continue
        if not token.startswith("##"):
            word_chosen = rng.random() < rate
        chosen[position] = word_chosen
    return chosen


def pieces_then_words(tokens, rate, rng):
    """Chooses pieces, then extends each choice to its word: long words are chosen too often."""
    chosen = (rng.random(len(tokens)) < rate) & np.array([t not in ("[CLS]", "[SEP]", "[PAD]") for t in tokens])
    for position in range(len(tokens) - 1, 0, -1):
        if tokens[position].startswith("##"):
            chosen[position - 1] |= chosen[position]
    for position in range(1, len(tokens)):
        if tokens[position].startswith("##"):
            chosen[position] = chosen[position - 1]
    return chosen


def test_whole_word_masking_check() -> None:
    assert "correct" in encoders.check_whole_word_masking(whole_words)
    with pytest.raises(ExerciseIncorrect, match="several pieces"):
        encoders.check_whole_word_masking(pieces_then_words)
    with pytest.raises(ExerciseIncorrect, match="chosen together"):
        encoders.check_whole_word_masking(
            lambda tokens, rate, rng: whole_words([t.lstrip("#") for t in tokens], rate, rng)
        )
    with pytest.raises(ExerciseIncorrect, match="never be chosen"):
        encoders.check_whole_word_masking(lambda tokens, rate, rng: rng.random(len(tokens)) < rate)
    with pytest.raises(ExerciseIncorrect, match="same tokens"):
        encoders.check_whole_word_masking(lambda tokens, rate, rng: whole_words(tokens, rate, np.random.default_rng(0)))
    with pytest.raises(ExerciseIncorrect, match="about 15%"):
        encoders.check_whole_word_masking(lambda tokens, rate, rng: whole_words(tokens, 2 * rate, rng))
    with pytest.raises(ExerciseIncorrect, match="one boolean per token"):
        encoders.check_whole_word_masking(lambda tokens, rate, rng: whole_words(tokens, rate, rng)[1:])


def top_k(queries, corpus, k):
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    corpus = corpus / np.linalg.norm(corpus, axis=1, keepdims=True)
    return np.argsort(-(queries @ corpus.T), axis=1)[:, :k]


def test_cosine_top_k_check() -> None:
    assert "correct" in encoders.check_cosine_top_k(top_k)
    with pytest.raises(ExerciseIncorrect, match="dot products"):
        encoders.check_cosine_top_k(lambda q, c, k: np.argsort(-(q @ c.T), axis=1)[:, :k])
    with pytest.raises(ExerciseIncorrect, match="wrong order"):
        encoders.check_cosine_top_k(lambda q, c, k: top_k(q, c, k)[:, ::-1])
    with pytest.raises(ExerciseIncorrect, match="LEAST similar"):
        encoders.check_cosine_top_k(lambda q, c, k: top_k(-q, c, k))
    with pytest.raises(ExerciseIncorrect, match="shape"):
        encoders.check_cosine_top_k(lambda q, c, k: top_k(q, c, k)[0])


def test_figures_draw_the_encoder_and_the_chatbot() -> None:
    import matplotlib.pyplot as plt

    from helpers.figures import encoders as encoder_figures

    figures = (
        encoder_figures.masked_language_model_figure(2),
        encoder_figures.sentence_encoder_figure(6),
        encoder_figures.retrieval_chatbot_figure(),
    )
    for figure in figures:
        texts = [text.get_text() for text in figure.axes[0].texts]
        assert len(texts) >= 5 and figure.axes[0].get_title(), texts
        plt.close(figure)
    assert "2 encoder blocks" in " ".join(t.get_text() for t in figures[0].axes[0].texts)
    assert "6 × block" in " ".join(t.get_text() for t in encoder_figures.sentence_encoder_figure(6).axes[0].texts)
    plt.close("all")
