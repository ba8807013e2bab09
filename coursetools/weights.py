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
    python -m coursetools.weights numbers       # notebook 08b's two encoder-decoders (about 15 minutes)
    python -m coursetools.weights cartpole      # notebook 12's DQN (a few minutes)
    python -m coursetools.weights r8_lora       # notebook 14's LoRA adapter of SmolLM2 (about 10 minutes)
    python -m coursetools.weights digits        # notebook 16's VAE, GAN and diffusion model (about 15 minutes)
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
FID_EVERY = 250  # notebook 16's models: steps between two digit FIDs of the learning curve
SCORED_STRIDE = 4  # every 4th of 08b's held-out numbers (sorted: all lengths), scored live in fast mode and by the test


def provenance() -> dict[str, object]:
    """Which code made the weights, when, and on what machine."""
    from helpers import results

    return {
        **results.code_version(ROOT),
        "date": datetime.date.today().isoformat(),
        "machine": results.machine(),
        "made by": "make weights (python -m coursetools.weights)",
    }


def ship(model, name: str, record: dict[str, object], fresh, measure: Callable) -> dict[str, object]:
    """Save ``model``'s weights in float16 as ``name``, load them into ``fresh`` (the same model built anew by
    today's code) and record what the shipped weights score (``measure``) beside what ``model`` scored."""
    from helpers.datasets import course_weights

    record = {**record, "float32 figures": measure(model)}
    course_weights.save_weights(model, name, record)
    course_weights.load_weights(fresh, name)
    record["figures"] = measure(fresh)
    course_weights.write_record(name, record)
    return record


def shakespeare_model(name: str, vocabulary_size: int):
    """``gpt_shakespeare`` or ``lstm_shakespeare`` as notebook 08 builds it in full mode, its weights created."""
    import tensorflow as tf

    from helpers.lessons import gpt

    plan = gpt.gpt_plan("full")
    if name == "gpt_shakespeare":
        model = gpt.GPT(vocabulary_size, plan.context, plan.width, plan.layers, plan.heads)
        model(tf.zeros((1, plan.context), tf.int32))
        return model
    units = gpt.lstm_units_for(gpt.gpt_parameter_count(vocabulary_size, plan.context, plan.width, plan.layers),
                               vocabulary_size)  # fmt: skip
    return gpt.lstm_language_model(vocabulary_size, units, units)


def shakespeare(made: dict[str, object]) -> None:
    """Notebook 08's full-mode GPT and the LSTM of the same size, trained as the notebook trains them."""
    import keras

    from helpers.datasets import shakespeare as plays_data
    from helpers.lessons import gpt
    from helpers.seeding import seed_everything

    plan = gpt.gpt_plan("full")
    plays = plays_data.load_plays()
    split = plays_data.split_plays(plays, train_limit=plan.train_characters)
    vocabulary = plays_data.CharVocabulary.from_texts(plays.values())
    train, validation, test = (vocabulary.encode(text) for text in (split.train, split.validation, split.test))
    held_out = {"validation": validation, "test": test}

    def figures(model: keras.Model) -> dict[str, float]:
        scorer = gpt.CharacterScorer(model, plan.context)
        found = {f"{play} bits/char": scorer(ids) for play, ids in held_out.items()}
        for play, ids in held_out.items():
            found[f"{play} bits/char, first {SCORED_CHARACTERS:,} characters"] = scorer(ids[:SCORED_CHARACTERS])
        return found

    seed_everything(SEED)
    for name in ("gpt_shakespeare", "lstm_shakespeare"):
        keras.utils.set_random_seed(SEED)
        model = shakespeare_model(name, len(vocabulary))
        print(f"training {name} ({model.count_params():,} parameters), {plan.steps} steps ...", flush=True)
        log = gpt.train_language_model(model, train, validation, plan, SEED)
        record = {
            **made,
            "model": f"{name}: notebook 08's {name.split('_')[0].upper()}, full mode",
            "seed": SEED,
            "plan": dataclasses.asdict(plan),
            "steps": log.steps_done,
            "parameters": model.count_params(),
            "training seconds": round(log.training_seconds, 1),
            "learning curve": log.rows,
            "scored characters": SCORED_CHARACTERS,
            "training plays": len(split.train_plays),
        }
        record = ship(model, name, record, shakespeare_model(name, len(vocabulary)), figures)
        print(f"  {log.steps_done} steps in {log.training_seconds:.0f} s; float16 weights: {record['figures']}")


def seq2seq_model(name: str):
    """``seq2seq_transformer`` or ``seq2seq_lstm`` as notebook 08b builds it in full mode, its weights created."""
    import numpy as np

    from helpers.lessons import encoder_decoder as lesson

    model = lesson.new_model(lesson.MODELS[0] if name == "seq2seq_transformer" else lesson.MODELS[1],
                             lesson.seq2seq_plan("full"))  # fmt: skip
    model((np.zeros((1, lesson.MAX_WORDS), np.int32), np.zeros((1, lesson.MAX_TARGET), np.int32)))
    return model


def numbers(made: dict[str, object]) -> None:
    """Notebook 08b's full-mode transformer encoder-decoder and LSTM without attention, trained as the notebook and
    ``benchmarks/encoder_decoder.py`` train them, scored on the full-mode held-out numbers (exact match, by length)."""
    from helpers.lessons import encoder_decoder as lesson

    plan = lesson.seq2seq_plan("full")
    train, test = lesson.number_tasks(plan, SEED)

    def figures(model) -> dict[str, float]:
        matches = lesson.exact_matches(lesson.greedy_decode(model, test.source), test)
        by_length = lesson.accuracy_by_length(matches, test)
        return {
            "exact match": float(matches.mean()),
            f"exact match, every {SCORED_STRIDE}th number": float(matches[::SCORED_STRIDE].mean()),
            **{f"exact match, {bucket}": value for bucket, value in by_length.items()},
        }

    for name, model_name in zip(("seq2seq_transformer", "seq2seq_lstm"), lesson.MODELS, strict=True):
        print(f"training {model_name}, {plan.transformer_steps if name.endswith('transformer') else plan.lstm_steps} "
              "steps ...", flush=True)  # fmt: skip
        model, rows, _ = lesson.train_and_score(model_name, train, test, plan, SEED)
        record = {
            **made,
            "model": f"{name}: notebook 08b's {model_name}, full mode",
            "seed": SEED,
            "plan": dataclasses.asdict(plan),
            "steps": rows[-1]["step"],
            "parameters": model.count_params(),
            "training seconds": round(rows[-1]["seconds"], 1),
            "learning curve": rows,
            "test numbers": len(test.numbers),
        }
        record = ship(model, name, record, seq2seq_model(name), figures)
        print(f"  {rows[-1]['step']} steps in {rows[-1]['seconds']:.0f} s; float16 weights: {record['figures']}")


def dqn_test_returns(network, plan) -> list[float]:
    """The greedy returns of ``network`` (a Q-network) on notebook 12's final test episodes."""
    import tensorflow as tf

    from helpers.lessons import rl

    greedy = tf.function(lambda batch: tf.argmax(network(batch), axis=1, output_type=tf.int32))
    return rl.evaluate_policy(greedy, episodes=plan.evaluation_episodes, seed=rl.EVALUATION_SEED).tolist()


def cartpole(made: dict[str, object]) -> None:
    """Notebook 12's full-mode deep Q-network on CartPole-v1, tested on the notebook's final test episodes."""
    from helpers.lessons import rl

    plan = rl.rl_plan("full").dqn
    print(f"training the DQN, at most {plan.max_steps:,} steps ...", flush=True)
    training = rl.train_dqn(plan, SEED)

    def figures(network) -> dict[str, object]:
        returns = dqn_test_returns(network, plan)
        return {"mean test return": sum(returns) / len(returns), "test returns": returns}

    record = {
        **made,
        "model": "dqn_cartpole: notebook 12's deep Q-network (the online network), full mode",
        "seed": SEED,
        "plan": dataclasses.asdict(plan),
        "steps": training.steps,
        "best step": training.best_step,
        "parameters": training.agent.online.count_params(),
        "training seconds": round(training.seconds, 1),
        "selection runs": training.evaluations,
        "test episodes": plan.evaluation_episodes,
        "test seed": rl.EVALUATION_SEED,
    }
    fresh = rl.q_network(4, 2, plan.hidden_units, "online")
    record = ship(training.agent.online, "dqn_cartpole", record, fresh, figures)
    mean = record["figures"]["mean test return"]
    print(f"  {training.steps:,} steps in {training.seconds:.0f} s; float16 weights: mean test return {mean}")


def r8_stories(plan) -> tuple[object, object, int]:
    """Reuters R8 as notebook 09 reads it: every training story and every test story as ``encoders.Stories``
    (MiniLM's WordPiece tokens of the first ``plan.sequence_length``, renumbered into the compact vocabulary of
    the training stories, the same in fast and full mode), and the size of that vocabulary."""
    import keras_hub
    import numpy as np

    from helpers.datasets.registry import fetch
    from helpers.datasets.text import load_r8
    from helpers.lessons import encoders

    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(fetch("all_minilm_l6_v2") / "model"))
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=plan.sequence_length)
    r8 = load_r8()
    topics = sorted(set(r8.train_labels))
    wordpiece_train = encoders.tokenize(r8.train_texts, preprocessor)
    vocabulary = encoders.compact_vocabulary(wordpiece_train, tokenizer.get_vocabulary())
    train, test = (
        encoders.Stories(texts, vocabulary.encode(ids), np.array([topics.index(label) for label in labels]))
        for texts, ids, labels in (
            (r8.train_texts, wordpiece_train, r8.train_labels),
            (r8.test_texts, encoders.tokenize(r8.test_texts, preprocessor), r8.test_labels),
        )
    )
    return train, test, len(vocabulary)


def masked_token_accuracy(mlm_model, token_ids, seed: int = 0) -> float:
    """The share of masked tokens the MLM model gives back: 15 % of the ordinary tokens of ``token_ids``,
    chosen by a NumPy generator seeded with ``seed`` and all replaced by [MASK] (no 80/10/10: a fixed test)."""
    import numpy as np

    from helpers.lessons import encoders

    ordinary = token_ids >= len(encoders.SPECIAL_TOKENS)
    chosen = ordinary & (np.random.default_rng(seed).random(token_ids.shape) < 0.15)
    corrupted = np.where(chosen, encoders.MASK_ID, token_ids).astype(np.int32)
    logits = mlm_model((corrupted, chosen), training=False).numpy()
    return float(np.mean(logits.argmax(axis=1) == token_ids[chosen]))


def r8_encoder(made: dict[str, object]) -> None:
    """Notebook 09's small encoder, pretrained by masked language modelling in full mode (all training stories)."""
    from helpers.lessons import encoders
    from helpers.seeding import seed_everything

    plan = encoders.encoder_plan("full")
    train, test, vocabulary_size = r8_stories(plan)
    unlabelled = encoders.random_subset(len(train.texts), plan.unlabelled_stories, SEED)
    seed_everything(SEED)
    encoder = encoders.SmallEncoder(
        vocabulary_size, plan.sequence_length, plan.width, plan.layers, plan.heads, plan.dropout
    )  # as the notebook builds it before pretraining
    print(f"pretraining the small encoder, {plan.mlm_epochs} epochs over {len(unlabelled):,} stories ...", flush=True)
    started = time.perf_counter()
    mlm_model, history = encoders.pretrain_mlm(encoder, train.ids[unlabelled], plan, SEED)
    seconds = time.perf_counter() - started
    record = {
        **made,
        "model": "mlm_r8: notebook 09's small encoder with its MLM head, pretrained in full mode",
        "seed": SEED,
        "plan": dataclasses.asdict(plan),
        "epochs": plan.mlm_epochs,
        "unlabelled stories": len(unlabelled),
        "vocabulary size": vocabulary_size,
        "parameters": mlm_model.count_params(),
        "training seconds": round(seconds, 1),
        "history": {key: [float(value) for value in values] for key, values in history.items()},
    }
    fresh = encoders.masked_language_model(vocabulary_size, plan)
    record = ship(
        mlm_model, "mlm_r8", record, fresh,
        lambda model: {"masked-token accuracy, test stories": masked_token_accuracy(model, test.ids)},
    )  # fmt: skip
    print(f"  {seconds:.0f} s; float16 weights: {record['figures']}")


def topic_accuracy(model, tokenizer, modes: tuple[str, ...]) -> dict[str, float]:
    """Held-out accuracy of ``model`` on notebook 14's test sample of each of ``modes`` (fast: the stories
    the workshop scores live; full: the benchmark's)."""
    from helpers.lessons import llm_adaptation as lesson

    scorer = lesson.TopicScorer(model, tokenizer)
    found = {}
    for mode in modes:
        task = lesson.topic_task(lesson.test_story_count(mode))
        found[f"accuracy, {len(task.test_stories)} test stories"] = scorer.accuracy(task.test_stories, task.test_topics)
    return found


def r8_lora(made: dict[str, object]) -> None:
    """Notebook 14's LoRA adapter of SmolLM2-135M-Instruct for R8 topics, trained as the full-mode notebook
    trains it and saved in float16 as ``lora_r8_topics.npz``, the LLM server's adapter format (``--lora``)."""
    import keras

    from helpers.datasets import course_weights
    from helpers.datasets.registry import smollm2_file
    from helpers.lessons import llm
    from helpers.lessons import llm_adaptation as lesson
    from helpers.serving.adapters import PROJECTIONS, read_lora, save_lora

    plan = lesson.tuning_plan("full")
    smollm = llm.read_gguf(smollm2_file())
    tokenizer = llm.gguf_tokenizer(smollm)
    task = lesson.topic_task(lesson.test_story_count("full"))
    keras.utils.set_random_seed(SEED)
    model = lesson.lora_llama(smollm.config, smollm.weights, lesson.LORA_RANK, lesson.LORA_ALPHA, PROJECTIONS)
    print(f"training the LoRA adapter on {plan.per_topic} stories per topic, {plan.epochs} epochs ...", flush=True)
    started = time.perf_counter()
    chosen, losses = lesson.train_topic_adapter(model, tokenizer, task, plan, SEED)
    seconds = time.perf_counter() - started
    name = "lora_r8_topics"
    path = save_lora(course_weights.weights_path(name), lesson.lora_adapter(model), dtype="float16")
    shipped = lesson.lora_llama(smollm.config, smollm.weights, lesson.LORA_RANK, lesson.LORA_ALPHA, PROJECTIONS)
    lesson.load_adapter(shipped, read_lora(path))
    record = {
        **made,
        "model": f"{name}: notebook 14's LoRA adapter (rank {lesson.LORA_RANK}, alpha {lesson.LORA_ALPHA}, every "
        "projection of every block) of SmolLM2-135M-Instruct for R8 topics, full mode",
        "seed": SEED,
        "plan": dataclasses.asdict(plan),
        "steps": len(losses),
        "training stories": len(chosen),
        "trained weights": sum(int(variable.numpy().size) for variable in lesson.lora_variables(model)),
        "training seconds": round(seconds, 1),
        "losses": [round(loss, 4) for loss in losses],
        "float32 figures": topic_accuracy(model, tokenizer, ("fast",)),
        "figures": topic_accuracy(shipped, tokenizer, ("fast", "full")),
    }
    course_weights.write_record(name, record)
    print(f"  {len(losses)} steps in {seconds:.0f} s; float16 adapter: {record['figures']}")


def digits_model(name: str, seed: int = SEED) -> tuple[object, object, int]:
    """Notebook 16's ``vae_digits``, ``gan_digits`` or ``diffusion_digits`` as the full-mode notebook builds it: the
    model that trains, the part that is shipped (the GAN's generator; the others whole) and its steps."""
    import keras

    from helpers.lessons import generative as lesson

    plan = lesson.generative_plan("full")
    keras.utils.set_random_seed(seed)
    if name == "vae_digits":
        model = lesson.VAE(plan.latent_size, seed=seed)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        return model, model, plan.vae_steps
    if name == "gan_digits":
        model = lesson.new_gan(real_target=0.9, seed=seed)
        return model, model.generator, plan.gan_steps
    model = lesson.new_diffusion(plan, seed)
    return model, model, plan.diffusion_steps


def digit_samples(name: str, shipped, count: int):
    """``count`` digits (pixels in [0, 1]) from the shipped part of ``name``, drawn with the seed :data:`SEED`; the
    diffusion model's are the classes in turn, by DDIM in 10 steps with notebook 16's guidance."""
    import numpy as np

    from helpers.lessons import generative as lesson

    if name == "vae_digits":
        return shipped.sample(count, SEED)
    if name == "gan_digits":
        noise = np.random.default_rng(SEED).standard_normal((count, 64)).astype("float32")
        return (shipped.predict(noise, batch_size=1000, verbose=0) + 1) / 2
    return lesson.denoise(shipped, lesson.balanced_labels(count), 10, lesson.generative_plan("full").guidance, SEED)[0]


DIGIT_MODELS = ("vae_digits", "gan_digits", "diffusion_digits")


def digits(made: dict[str, object]) -> None:
    """Notebook 16's full-mode VAE, GAN (one-sided label smoothing; the generator is shipped) and class-conditional
    diffusion model, trained as the notebook and ``benchmarks/generative.py`` train them, each with its digit FID
    recorded every :data:`FID_EVERY` steps; scored on 1,000 samples (fast mode's count) against the test digits, by
    the CNN notebook 03 saved (trained here in full mode if 03 has not run). The samples' mean pixel and spread need
    no judge: ``tests/test_course_weights.py`` regenerates them with today's code."""
    from helpers.datasets.registry import load_mnist
    from helpers.lessons import generative as lesson
    from helpers.lessons.mnist import load_or_train_mnist

    plan, count = lesson.generative_plan("full"), lesson.generative_plan("fast").scored_samples
    (images, labels), (test_images, _) = load_mnist()
    pixels = (images / 255.0).astype("float32")[..., None]
    judge = lesson.DigitJudge(load_or_train_mnist("cnn", "full")[0])
    reference = judge.features((test_images / 255.0).astype("float32")[..., None])
    data = lesson.pixels_dataset(pixels, labels, plan.batch_size, SEED)
    for name in DIGIT_MODELS:
        model, shipped, steps = digits_model(name)
        curve = lesson.FidCurve(judge, reference, lambda n, s=shipped, m=name: digit_samples(m, s, n), 1000, FID_EVERY)
        print(f"training {name}, {steps:,} steps ...", flush=True)
        started = time.perf_counter()
        if name == "diffusion_digits":  # smaller batches, more steps
            data = lesson.pixels_dataset(pixels, labels, plan.diffusion_batch_size, SEED)
        history = lesson.train_for(model, data, steps, every=FID_EVERY, callbacks=[curve])
        seconds = time.perf_counter() - started
        record = {
            **made,
            "model": f"{name}: notebook 16's {name.split('_')[0].upper()}, full mode",
            "seed": SEED,
            "plan": dataclasses.asdict(plan),
            "steps": steps,
            "parameters": sum(int(weight.numpy().size) for weight in shipped.weights),
            "training seconds": round(seconds, 1),
            "history": history,
            "fid curve": curve.rows,
            "scored samples": count,
        }

        def figures(candidate, m=name) -> dict[str, float]:
            samples = digit_samples(m, candidate, count)  # the judge's figures, and two that need no judge
            asked = lesson.balanced_labels(count) if m == "diffusion_digits" else None
            found = lesson.sample_scores(judge, samples, reference, asked)
            return found | {"mean pixel": float(samples.mean()), "pixel spread": float(samples.std())}

        record = ship(shipped, name, record, digits_model(name)[1], figures)
        print(f"  {steps:,} steps in {seconds:.0f} s; float16 weights: {record['figures']}")

ENTRIES: dict[str, Callable[[dict[str, object]], None]] = {
    "shakespeare": shakespeare,
    "numbers": numbers,
    "cartpole": cartpole,
    "r8_encoder": r8_encoder,
    "r8_lora": r8_lora,
    "digits": digits,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"entries to train: {', '.join(ENTRIES)} (default: all)")
    arguments = parser.parse_args(argv)
    unknown = sorted(set(arguments.names) - set(ENTRIES))
    if unknown:
        parser.error(f"no entry {', '.join(unknown)}; the entries are {', '.join(ENTRIES)}")
    made = provenance()  # before any training: the code that trains is the code of this commit
    for name in arguments.names or ENTRIES:
        started = time.perf_counter()
        ENTRIES[name](made)
        print(f"{name}: done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
