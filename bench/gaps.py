"""Knowledge gaps (issue 25): how well refused questions are grouped — one group per thing asked, so that
a knowledge owner answers it once, and no two different things in one group.

    python -m bench.gaps              # dev groups: the grid over the grouping's two figures, and the chosen
    python -m bench.gaps --heldout    # also the held-out groups (looked at once, at the end)

bench/gaps/questions.yaml holds 40 groups of 5–6 phrasings each (230 questions, 28 % English), written by a
helper who saw no project file, with 13 pairs of groups close in wording but needing different answers.
Groups with an even position are dev, odd ones held-out. Each set is fed through the real gap log
(SQLite, the offline embedder) in a fixed shuffled order, and scored with B-cubed precision (how much of a
question's group is really its own) and recall (how much of its own is in its group), and how many
groups a knowledge owner would see per real group.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "bench" / "gaps" / "questions.yaml"
JOINS = (0.50, 0.55, 0.60, 0.62, 0.65, 0.70, 0.75)
LEXICALS = (0.0, 0.2, 0.35, 0.5, 0.7)


def load(half: str) -> list[tuple[str, str, str]]:
    groups = yaml.safe_load(SET.read_text(encoding="utf-8"))["groups"]
    chosen = groups[0::2] if half == "dev" else groups[1::2]
    items = [(q["text"], q["lang"], g["id"]) for g in chosen for q in g["questions"]]
    random.Random(25).shuffle(items)
    return items


def score(items, embed, join: float, lexical: float) -> dict:
    from bot.gaps import store
    from bot.storage.db import Database

    store.JOIN, store.LEXICAL = join, lexical
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/gaps.db")
        log = store.GapLog(db, embed)
        found = [log.record(text, lang, "bench", "refused") for text, lang, _ in items]
        db.engine.dispose()
    gold = [g for _, _, g in items]
    precision = recall = 0.0
    for i in range(len(items)):
        mine = {j for j in range(len(items)) if found[j] == found[i]}
        own = {j for j in range(len(items)) if gold[j] == gold[i]}
        precision += len(mine & own) / len(mine)
        recall += len(mine & own) / len(own)
    n = len(items)
    return {"precision": precision / n, "recall": recall / n, "groups": len(set(found)), "real": len(set(gold))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heldout", action="store_true")
    args = parser.parse_args(argv)
    from bot.gaps import store
    from ingest.embedder import Embedder

    embedder = Embedder()
    halves = ["dev"] + (["heldout"] if args.heldout else [])
    data = {h: load(h) for h in halves}
    vectors: dict = {}

    def embed(text: str):
        if text not in vectors:
            vectors[text] = embedder.embed_one(text)
        return vectors[text]

    chosen = (store.JOIN, store.LEXICAL)
    print("| set | join at | words' share | B-cubed precision | recall | F1 | groups found / real |")
    print("|---|---|---|---|---|---|---|")
    rows = [(j, lx) for j in JOINS for lx in LEXICALS]
    for join, lexical in rows:
        s = score(data["dev"], embed, join, lexical)
        f1 = 2 * s["precision"] * s["recall"] / (s["precision"] + s["recall"])
        mark = " ← chosen" if (join, lexical) == chosen else ""
        print(f"| dev | {join:.2f} | {lexical:.2f} | {s['precision']:.3f} | {s['recall']:.3f} | {f1:.3f} | "
              f"{s['groups']} / {s['real']}{mark} |")  # fmt: skip
    if args.heldout:
        s = score(data["heldout"], embed, *chosen)
        f1 = 2 * s["precision"] * s["recall"] / (s["precision"] + s["recall"])
        print(f"| held-out | {chosen[0]:.2f} | {chosen[1]:.2f} | {s['precision']:.3f} | {s['recall']:.3f} | "
              f"{f1:.3f} | {s['groups']} / {s['real']} |")  # fmt: skip
    store.JOIN, store.LEXICAL = chosen
    return 0


if __name__ == "__main__":
    sys.exit(main())
