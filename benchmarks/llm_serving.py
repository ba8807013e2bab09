"""The LLM server under concurrent users: continuous batching against one request at a time.

The course's LLM server (``python -m helpers.serving --llm``, SmolLM2-135M-Instruct) runs as its own
process; clients are threads with the ``openai`` client, all sending together, each streaming one
greedy chat answer of ``NEW_TOKENS`` tokens to a question of about 40 prompt tokens (chat template
included). For each run (default 3) it prints:

* with continuous batching (``--slots 8``, the default) and with one request at a time
  (``--slots 1``): for 1, 2, 4 and 8 concurrent clients, the aggregate tokens per second (every
  client's tokens over the round's wall time), its ratio to one client's, and the time to the first
  token (mean and worst client);
* 16 concurrent clients (8 slots, 8 waiting: the default queue) and how many were refused;
* the memory-bandwidth roofline: the machine's read bandwidth (measured) over the float32 weights
  (538 MB), the most tokens per second one sequence can get when each step reads every weight once
  (a batch of B sequences reads them once for all B);
* the prefill time against prompt length (about 140 to 1,900 tokens, one client, one new token).

Targets (full mode, means over the runs; floors on the worst run): 8 concurrent clients get at least
3x one client's aggregate tokens/s (floor 2.5x) and every client's first token within 2 s (the mean of
each run's worst client; ceiling 3 s); 16 concurrent clients: none refused (every run). With ``--check``
the figures go to ``benchmarks/results/llm_serving_MODE.json``.

    python benchmarks/llm_serving.py           # COURSE_MODE (default full): about 5 minutes on a 2-core CPU
    python benchmarks/llm_serving.py --fast    # one run, fewer tokens: a quick look
    python benchmarks/llm_serving.py --check   # write the results file; exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
import os
import sys

from helpers.mode import by_mode, course_mode

MODEL_NAME = "SmolLM2-135M-Instruct"
CONCURRENCY = (1, 2, 4, 8)
MIN_SPEEDUP_AT_8 = 3.0
FLOOR_SPEEDUP_AT_8 = 2.5
MAX_FIRST_TOKEN_AT_8_S = 2.0
CEILING_FIRST_TOKEN_AT_8_S = 3.0
QUESTIONS = [
    "Explain in a few sentences why the sky looks blue during the day.",
    "Give me three ideas for a healthy breakfast that takes five minutes.",
    "What is the difference between a virus and a bacterium, in simple words?",
    "Write a short poem about the sea at night and the light of the moon.",
    "How do I make a good cup of tea? List the steps one by one please.",
    "Why do leaves change colour in autumn? Answer for a ten year old.",
    "Describe a cat to someone who has never seen one, in a few sentences.",
    "What should I pack for a weekend of hiking in the mountains in spring?",
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="quick check run (same as COURSE_MODE=fast)")
    parser.add_argument("--runs", type=int, help="repetitions of the whole measurement (default 3; fast 1)")
    parser.add_argument(
        "--check", action="store_true", help="write benchmarks/results/llm_serving_MODE.json; exit 1 on a missed target"
    )
    return parser.parse_args(argv)


def questions_for(clients: int) -> list[str]:
    return [QUESTIONS[index % len(QUESTIONS)] for index in range(clients)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    runs = list(range(1, 1 + (args.runs or by_mode(mode, fast=1, full=3))))
    new_tokens = by_mode(mode, fast=16, full=64)

    import pandas as pd

    from helpers import results
    from helpers.datasets.registry import smollm2_file
    from helpers.processes.server import start_llm_server
    from helpers.serving.chat_load import concurrent_chats, stream_chat
    from helpers.timing import memory_read_gb_per_s

    version = results.code_version()
    model_file = smollm2_file()
    bandwidth = memory_read_gb_per_s()
    weight_gb = 0.538  # SmolLM2-135M's float32 weights: what one decode step reads
    print(
        f"mode: {mode}   CPUs: {os.cpu_count()}   load average (1 min): {os.getloadavg()[0]:.2f}   runs: {runs}   "
        f"{new_tokens} new tokens per answer   memory read bandwidth {bandwidth:.1f} GB/s: at most "
        f"{bandwidth / weight_gb:.1f} decode steps/s (one read of the weights each), whatever the batch"
    )
    roofline = "roofline: decode steps/s, one read of the float32 weights each (x clients in a batch: tokens/s)"
    per_run: dict[int, dict[str, float]] = {run: {roofline: bandwidth / weight_gb} for run in runs}
    for slots in (8, 1):
        engine = "continuous batching, 8 slots" if slots == 8 else "one request at a time"
        with start_llm_server(MODEL_NAME, model_file, extra_args=["--slots", str(slots)], timeout_s=600) as server:
            concurrent_chats(server.url, MODEL_NAME, questions_for(slots), 4)  # compile what the rounds need
            for run in runs:
                rows = []
                for clients in CONCURRENCY:
                    round_ = concurrent_chats(server.url, MODEL_NAME, questions_for(clients), new_tokens)
                    rows.append(
                        {
                            "clients": clients,
                            "tokens/s (all clients)": round_.tokens_per_s,
                            "first token, mean (s)": sum(round_.first_token_s) / clients,
                            "first token, worst (s)": max(round_.first_token_s),
                            "refused": round_.refused,
                        }
                    )
                table = pd.DataFrame(rows).set_index("clients")
                table["x one client"] = table["tokens/s (all clients)"] / table["tokens/s (all clients)"].iloc[0]
                print(f"\nrun {run}, {engine}\n{table.round(2).to_string()}", flush=True)
                for clients, row in table.iterrows():
                    for column in ("tokens/s (all clients)", "x one client", "first token, worst (s)"):
                        per_run[run][f"{engine}: {clients} clients, {column}"] = float(row[column])
                if slots == 8:
                    crowd = concurrent_chats(server.url, MODEL_NAME, questions_for(16), new_tokens)
                    print(f"16 clients at once: {len(crowd.tokens)} served, {crowd.refused} refused")
                    per_run[run]["16 clients at once: refused"] = float(crowd.refused)
            if slots == 8:
                import openai

                client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="local", max_retries=0, timeout=600)
                print("\nprefill time against prompt length (one client, one new token)")
                for repeats in (8, 32, 65, 130):  # about 140 to 1,900 prompt tokens
                    question = " ".join([QUESTIONS[0]] * repeats)
                    stream_chat(client, MODEL_NAME, question, 1)  # the bucket's first prompt compiles
                    first, _ = stream_chat(client, MODEL_NAME, question, 1)
                    prompt_tokens = client.chat.completions.create(
                        model=MODEL_NAME, messages=[{"role": "user", "content": question}], max_tokens=1
                    ).usage.prompt_tokens
                    print(f"  {prompt_tokens:>5} prompt tokens: first token after {first:.2f} s", flush=True)
                    for run in runs:
                        per_run[run][f"prefill: {prompt_tokens} prompt tokens, first token (s)"] = first

    batching = "continuous batching, 8 slots"

    def over_runs(figure: str) -> list[float]:
        return [per_run[run][figure] for run in runs]

    speedup = f"8 clients: aggregate tokens/s at least {MIN_SPEEDUP_AT_8:g}x one client's"
    first_token = f"8 clients: the worst first token within {MAX_FIRST_TOKEN_AT_8_S:g} s"
    targets = {}
    if mode == "full":
        targets = {
            f"{speedup} (floor {FLOOR_SPEEDUP_AT_8:g}x)": results.target(
                over_runs(f"{batching}: 8 clients, x one client"), MIN_SPEEDUP_AT_8, FLOOR_SPEEDUP_AT_8
            ),
            f"{first_token} (ceiling {CEILING_FIRST_TOKEN_AT_8_S:g} s)": results.target(
                over_runs(f"{batching}: 8 clients, first token, worst (s)"),
                MAX_FIRST_TOKEN_AT_8_S,
                CEILING_FIRST_TOKEN_AT_8_S,
                at_most=True,
            ),
            "16 clients at once: none refused": results.target(
                over_runs("16 clients at once: refused"), 0, 0, at_most=True
            ),
        }
    return results.finish("llm_serving", mode, runs, per_run, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
