"""Graph neural networks as notebook 11 trains them: the karate club, the stochastic block model, the timing curve.

The notebook's own code (``helpers.lessons.graphs``, exported from its cells). It prints:

* Zachary's karate club with two labelled members: accuracy on the other 32 of the GCN, the MLP on the
  features alone (one-hot identities), GraphSAGE's mean aggregator and label propagation; first with
  the two leaders (Mr. Hi and the Officer) labelled, the notebook's setting, for each seed (only the
  initial weights and dropout change, and the results hardly do), then with another labelled pair per
  seed (one random member of each club), which is what a mean over seeds should vary;
* the stochastic block model (3 communities of 3,000 people in full mode, noisy features, one graph
  drawn with the first seed): accuracy on the unlabelled people against the share of labelled ones
  (0.5 %, 1 %, 5 % in full mode) for the same four approaches, one run per seed and the mean;
* the GCN's training time per epoch as the network grows at a fixed average degree (3,000 to 24,000
  people in full mode: the edges grow with the people), the time ratio over the edge ratio (1 is
  linear growth; a dense adjacency, quadratic in the people, gives about 6 over a 4x range, see
  tests/test_gnn_lessons.py) and the least-squares line (a fixed part plus a cost per edge);
* depth (over-smoothing) on the same block model at 1 % labelled: plain and residual GCNs (``DeepGCN``) of 1, 2, 4
  and 8 layers, for each seed the accuracy on the unlabelled people and the spread of the last hidden vectors (mean
  cosine distance between nodes, ``representation_spread``; figures named "depth ...").

Targets (both modes), over the seeds (default 42, 1, 2, 3, 4): the karate GCN's mean accuracy at least
0.9 with the leaders labelled (floor 0.9) and with a random labelled pair per seed (floor 0.75); at 1 %
labelled, the GCN at least 10 points above the MLP on the mean (floor 5 on the worst seed); the time
per epoch growing no faster than the edges (time ratio / edge ratio at most 1). Depth (issue 37, over the seeds):
the plain 8-layer GCN at least 10 points below the plain 2-layer one on the mean (floor 0: on no seed are 8 plain
layers more accurate than 2), and the residual 8-layer GCN at most 3 points below the plain 2-layer one on the mean
(floor 5 points below, on the worst seed). With ``--check`` the
figures go to ``benchmarks/results/gnn_MODE.json`` (:mod:`helpers.results`).

    python benchmarks/gnn.py --check             # COURSE_MODE (default full), seeds 42, 1, 2, 3, 4
    python benchmarks/gnn.py --fast --seeds 42   # a quick look (about half a minute)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from helpers import results
from helpers.mode import course_mode

if TYPE_CHECKING:
    import keras

MIN_KARATE_GCN_ACCURACY = 0.9
FLOOR_KARATE_GCN_ACCURACY_ANY_PAIR = 0.75  # the worst random labelled pair
MIN_GCN_GAIN_AT_1_PERCENT = 0.10
FLOOR_GCN_GAIN_AT_1_PERCENT = 0.05
MAX_GROWTH_AGAINST_LINEAR = 1.0
MIN_DEPTH_DROP = 0.10  # plain GCN: 2 layers minus 8 layers, accuracy
FLOOR_DEPTH_DROP = 0.0
MIN_RESIDUAL_GAP = -0.03  # residual 8 layers minus plain 2 layers, accuracy: at most 3 points below
FLOOR_RESIDUAL_GAP = -0.05


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = results.benchmark_parser("gnn", __doc__, seeds="42,1,2,3,4")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "fast" if args.fast else course_mode()
    seeds = args.seeds

    import keras
    import networkx as nx
    import numpy as np
    import pandas as pd
    import tensorflow as tf

    from helpers.lessons import graphs as lesson

    version = results.code_version()  # the code that runs, read before the training
    plan = lesson.graph_plan(mode)
    print(
        f"mode: {mode}   TensorFlow {tf.__version__}   Keras {keras.__version__}   networkx {nx.__version__}   "
        f"CPUs: {os.cpu_count()}   load average (1 min): {os.getloadavg()[0]:.2f}   SBM seeds: {seeds}"
    )
    print(plan)

    def builders(num_classes: int) -> dict[str, Callable[[], keras.Model]]:
        return {
            **lesson.gcn_and_mlp(plan, num_classes),
            "GraphSAGE (mean)": lambda: lesson.GraphSAGE(plan.hidden_units, num_classes, plan.dropout),
        }

    karate = lesson.karate_club()
    per_seed: dict[int, dict[str, float]] = {seed: {} for seed in seeds}
    for setting in ("the leaders", "a random pair"):
        karate_rows = []
        print(f"\nkarate club, labelled: {setting} (one per club); accuracy on the other 32")
        for seed in seeds:
            labelled = (
                np.array([0, 33]) if setting == "the leaders" else lesson.labelled_nodes(karate.labels, 0.0, seed)
            )
            rows = lesson.compare_node_classifiers(karate, labelled, builders(2), plan, seed)
            print(
                f"  seed {seed:>2}, members {labelled.tolist()}  "
                + "   ".join(f"{row['approach']} {row['accuracy']:.3f}" for row in rows),
                flush=True,
            )
            karate_rows += [{**row, "seed": seed} for row in rows]
            per_seed[seed] |= {f"karate, {setting} labelled: {row['approach']}": row["accuracy"] for row in rows}
        karate_results = pd.DataFrame(karate_rows)
        karate_table = karate_results.groupby("approach", sort=False)["accuracy"].agg(["mean", "min", "max"])
        karate_table["mean seconds"] = karate_results.groupby("approach", sort=False)["seconds"].mean()
        print(f"\nkarate club, {setting} labelled, over seeds {seeds}\n")
        print(karate_table.round(3).to_string())

    sbm = lesson.plan_sbm(plan, seeds[0])
    inside = float(np.mean(sbm.labels[sbm.edges[:, 0]] == sbm.labels[sbm.edges[:, 1]]))
    print(
        f"\nstochastic block model: {sbm.num_nodes:,} people in {sbm.num_classes} communities, {len(sbm.edges):,} "
        f"edges (average degree {2 * len(sbm.edges) / sbm.num_nodes:.1f}, {inside:.1%} inside a community)"
    )
    sbm_rows = []
    for seed in seeds:
        for share in plan.label_shares:
            labelled = lesson.labelled_nodes(sbm.labels, share, seed)
            rows = lesson.compare_node_classifiers(sbm, labelled, builders(sbm.num_classes), plan, seed)
            print(
                f"  seed {seed:>2}  {100 * share:>4.1f} % ({len(labelled):>3} labelled)  "
                + "   ".join(f"{row['approach']} {row['accuracy']:.3f} ({row['seconds']:.1f} s)" for row in rows),
                flush=True,
            )
            sbm_rows += [{**row, "seed": seed, "labelled (%)": 100 * share} for row in rows]
            per_seed[seed] |= {f"SBM, {100 * share:g} % labelled: {row['approach']}": row["accuracy"] for row in rows}
    sbm_results = pd.DataFrame(sbm_rows)
    sbm_summary = sbm_results.groupby(["labelled (%)", "approach"], sort=False)["accuracy"].agg(["mean", "min", "max"])
    print(f"\nSBM accuracy on the unlabelled people, over seeds {seeds}\n")
    print(sbm_summary.round(3).to_string())
    curve = sbm_summary["mean"].unstack(0)
    print("\nlabel-efficiency table (mean accuracy; rows: approach, columns: labelled people in %)\n")
    print(curve.round(3).to_string())

    depth_rows = []
    print(f"\ndepth: plain and residual GCNs on the SBM, {plan.depth_label_share:.0%} labelled, {plan.epochs} epochs")
    for seed in seeds:
        labelled = lesson.labelled_nodes(sbm.labels, plan.depth_label_share, seed)
        rows = lesson.depth_sweep(sbm, labelled, plan, seed)
        print(
            f"  seed {seed:>2}  "
            + "   ".join(
                f"{row['model']} {row['layers']}: {row['accuracy']:.3f} ({row['spread']:.2f})" for row in rows
            ),
            flush=True,
        )
        depth_rows += [{**row, "seed": seed} for row in rows]
        for row in rows:
            name = f"depth {row['layers']} layers, {row['model']} GCN"
            per_seed[seed] |= {f"{name}: accuracy": row["accuracy"], f"{name}: spread": row["spread"]}
    depth_summary = pd.DataFrame(depth_rows).groupby(["model", "layers"])[["accuracy", "spread", "seconds"]]
    print(f"\ndepth sweep, accuracy and spread of the last hidden vectors, over seeds {seeds}\n")
    print(depth_summary.agg(["mean", "min", "max"]).round(3).to_string())

    timing = lesson.epoch_seconds_against_size(plan, seeds[0])
    growth = lesson.growth_against_linear(timing)
    print(f"\nGCN training time per epoch as the network grows (average degree 10, {plan.timing_epochs} epochs each)\n")
    table = pd.DataFrame(timing)
    table["ms per epoch"] = 1000 * table.pop("seconds per epoch")
    table["ms per 100,000 edges"] = table["ms per epoch"] / table["edges"] * 100_000
    print(table.round(2).to_string(index=False))
    first, last = timing[0], timing[-1]
    print(
        f"edges x {last['edges'] / first['edges']:.1f}, time per epoch x "
        f"{last['seconds per epoch'] / first['seconds per epoch']:.2f}: time ratio / edge ratio = {growth:.2f}"
    )
    fixed, per_edge = lesson.linear_time_fit(timing)
    print(f"least-squares line: {1000 * fixed:.2f} ms + {1e8 * per_edge:.2f} ms per 100,000 edges")

    def figure(name: str) -> list[float]:
        return [per_seed[seed][name] for seed in seeds]

    targets = {
        f"karate GCN, the leaders labelled, mean >= {MIN_KARATE_GCN_ACCURACY}": results.target(
            figure("karate, the leaders labelled: GCN"), MIN_KARATE_GCN_ACCURACY, MIN_KARATE_GCN_ACCURACY
        ),
        f"karate GCN, a random pair labelled, mean >= {MIN_KARATE_GCN_ACCURACY} "
        f"(floor {FLOOR_KARATE_GCN_ACCURACY_ANY_PAIR})": results.target(
            figure("karate, a random pair labelled: GCN"), MIN_KARATE_GCN_ACCURACY, FLOOR_KARATE_GCN_ACCURACY_ANY_PAIR
        ),
    }
    if 0.01 in plan.label_shares:
        for seed in seeds:
            per_seed[seed]["SBM, 1 % labelled: GCN minus MLP"] = (
                per_seed[seed]["SBM, 1 % labelled: GCN"] - per_seed[seed]["SBM, 1 % labelled: MLP (features only)"]
            )
        targets[
            f"SBM at 1 % labelled: GCN at least {100 * MIN_GCN_GAIN_AT_1_PERCENT:.0f} points above the MLP "
            f"(floor {100 * FLOOR_GCN_GAIN_AT_1_PERCENT:.0f})"
        ] = results.target(
            figure("SBM, 1 % labelled: GCN minus MLP"), MIN_GCN_GAIN_AT_1_PERCENT, FLOOR_GCN_GAIN_AT_1_PERCENT
        )
    deepest = plan.depths[-1]
    for seed in seeds:
        plain_two = per_seed[seed]["depth 2 layers, plain GCN: accuracy"]
        per_seed[seed][f"depth: plain 2 minus plain {deepest} layers, accuracy"] = (
            plain_two - per_seed[seed][f"depth {deepest} layers, plain GCN: accuracy"]
        )
        per_seed[seed][f"depth: residual {deepest} minus plain 2 layers, accuracy"] = (
            per_seed[seed][f"depth {deepest} layers, residual GCN: accuracy"] - plain_two
        )
    targets[
        f"depth: {deepest} plain layers at least {100 * MIN_DEPTH_DROP:.0f} points below 2 "
        f"(floor {100 * FLOOR_DEPTH_DROP:.0f})"
    ] = results.target(
        figure(f"depth: plain 2 minus plain {deepest} layers, accuracy"), MIN_DEPTH_DROP, FLOOR_DEPTH_DROP
    )
    targets[
        f"depth: {deepest} residual layers at most {-100 * MIN_RESIDUAL_GAP:.0f} points below 2 plain ones "
        f"(floor {-100 * FLOOR_RESIDUAL_GAP:.0f})"
    ] = results.target(
        figure(f"depth: residual {deepest} minus plain 2 layers, accuracy"), MIN_RESIDUAL_GAP, FLOOR_RESIDUAL_GAP
    )
    targets[f"time ratio / edge ratio at most {MAX_GROWTH_AGAINST_LINEAR}"] = {
        "measured": growth,
        "met": growth <= MAX_GROWTH_AGAINST_LINEAR,
    }
    return results.finish("gnn", mode, seeds, per_seed, targets, version, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
