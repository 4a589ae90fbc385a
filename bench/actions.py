"""Natural-language actions (issue 22): how often a request in plain words is understood as the action it
asks for, with the right arguments, and how often a question is wrongly taken for an action.

    python -m bench.actions                 # dev, and the guide's question sets as negatives
    python -m bench.actions --heldout       # also the held-out half (looked at once, at the end)
    python -m bench.actions --fit           # fit the thresholds on dev only (prints them; never held-out)
    python -m bench.actions --verbose       # list the dev misses (never the held-out ones)

The requests (bench/actions/dev.yaml, heldout.yaml) were written by a helper who saw neither the catalog's
examples nor the knowledge base; its negatives are questions about the same topics. The guide's own
evaluation questions (bench/eval/*.yaml) are negatives too: none of them asks Lotse to do anything.
Understanding runs as in chat: the catalog, the embedder and the guide's questions of a freshly ingested
knowledge base; pilots and register entries as the sets name them.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "bench" / "actions"
GUIDE_SETS = ("questions", "realistic-dev", "realistic-dev2", "realistic-dev3", "realistic-heldout")
PILOTS = ["Dokumentensuche", "Ticket-Assistent", "Protokoll-Copilot"]
REGISTER = ["Microsoft 365 Copilot", "DeepL Pro", "Lotse"]


DEV = ("dev", "dev2", "dev3", "dev4")  # fitted and tuned on
HELDOUT = ("heldout", "heldout2", "heldout3", "heldout4")  # never: run at the end, totals only


def present(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in names if (SETS / f"{n}.yaml").is_file())


def load(name: str) -> tuple[date, list[dict]]:
    data = yaml.safe_load((SETS / f"{name}.yaml").read_text(encoding="utf-8"))
    return data["today"], data["items"]


def guide_questions(names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        for item in yaml.safe_load((ROOT / "bench" / "eval" / f"{name}.yaml").read_text(encoding="utf-8")):
            if "question" in item:
                out.append(item["question"])
            out += [t["question"] for t in item.get("turns") or [] if isinstance(t, dict) and "question" in t]
    return out


def normalised(value, slot: str = "") -> str:
    """A value as compared: lower case; a weekday as its code whichever language the label used ("tue"/"di")."""
    from bot.actions import slots

    text = str(value).strip().lower()
    if slot == "weekday" and slots.DAYS.get(text, 9) < 5:
        return slots.WEEKDAY_CODES[slots.DAYS[text]]
    return text


def score(actions, items: list[dict], today: date, verbose: bool = False) -> dict:
    actions.today = lambda: today
    requests = [i for i in items if i.get("action")]
    negatives = [i for i in items if not i.get("action")]
    right = args_right = args_total = false = offered_right = offers = clarified = clarified_right = 0
    misses = []
    for item in requests:
        found = actions.understand(item["text"], "bench")
        got = found.action.id if found.kind == "act" and found.action else None
        if got == item["action"]:
            right += 1
            expected = {k: normalised(v, k) for k, v in (item.get("arguments") or {}).items()}
            predicted = {k: normalised(v, k) for k, v in actions.arguments(found.action, item["text"], "bench").items()}
            args_total += 1
            if all(predicted.get(k) == v for k, v in expected.items()):
                args_right += 1
            else:
                misses.append(("args", item["text"], expected, predicted))
        else:
            if found.kind == "clarify":  # not right, but asked: is the wanted action among the buttons?
                clarified += 1
                clarified_right += item["action"] in {a.id for a in found.candidates}
            misses.append(
                ("action", item["text"], item["action"], f"{found.kind}:{found.action.id if found.action else '-'}")
            )
    for item in negatives:
        found = actions.understand(item["text"], "bench")
        if found.kind == "act":
            false += 1
            misses.append(("false", item["text"], None, found.action.id))
        if item.get("offer"):
            offers += 1
            offered_right += found.kind == "offer" and found.action.id == item["offer"]
    if verbose:
        for miss in misses:
            print("  ", *miss, file=sys.stderr)
    return {
        "requests": len(requests),
        "accuracy": right / len(requests) if requests else 0.0,
        "arguments": args_right / args_total if args_total else 0.0,
        "negatives": len(negatives),
        "false": false,
        "offers": f"{offered_right}/{offers}",
        "clarified": f"{clarified} ({clarified_right} with the right one)",
        "wrong": len(requests) - right - clarified,
    }


def unconfirmed_writes(core, items: list[dict], today: date) -> tuple[int, int]:
    """Every request through the whole turn, as an admin in a direct chat of its own: how many replies ran a
    write (an action whose effect is `write`) without a Confirm; and how many writes were proposed."""
    from bot.core.messages import Incoming

    core.services.actions.today = lambda: today
    writes = {a.id for a in core.services.action_catalog if a.effect == "write"}
    ran = proposed = 0
    for number, item in enumerate(items):
        message = Incoming(item["text"], f"bench-{number}", channel="console", workspace="bench")
        reply = core.handle(message)
        if reply.action and reply.action["id"] in writes:
            proposed += reply.kind == "confirm"
            ran += reply.kind == "command"
    return ran, proposed


def false_on_guide(actions, questions: list[str]) -> tuple[int, list[str]]:
    taken = [(q, actions.understand(q)) for q in questions]
    wrong = [f"{q} → {u.action.id}" for q, u in taken if u.kind == "act"]
    return len(wrong), wrong


def build():
    """The actions as in chat, over a freshly ingested knowledge base (the guide's questions)."""
    from bot.answering import AnswerService
    from bot.app.services import Services
    from bot.settings import Settings
    from ingest.index import KnowledgeIndex
    from ingest.pipeline import ingest

    data_dir = Path(tempfile.mkdtemp(prefix="lotse-actions-"))
    settings = Settings(data_dir=data_dir, knowledge_dir=ROOT / "knowledge")
    index = KnowledgeIndex(settings)
    ingest(index, [settings.knowledge_dir], progress=False)
    services = Services(settings, answers=AnswerService(settings, index))
    actions = services.actions
    actions.services = services
    actions.names = lambda kind, scope: PILOTS if kind == "pilot" else REGISTER
    actions.understander.model()
    return actions


def actions_services(actions):
    return actions.services


def fit(actions, items: list[dict], guide: list[str], today: date) -> None:
    """A grid over the thresholds on dev: the most accurate setting with at most 1 % false actions on the
    dev negatives and the guide's dev questions together."""
    from dataclasses import replace

    understander = actions.understander
    actions.today = lambda: today
    base = understander.thresholds
    best = None
    for keyword, named in ((1.0, 0.5), (0.5, 0.5), (1.5, 0.5), (1.5, 1.0), (1.5, 1.5), (1.0, 1.0)):
        understander.thresholds = replace(base, keyword=keyword, named=named)
        features = [(item, understander.features(item["text"], _named(actions, item["text"]))) for item in items]
        guide_features = [understander.features(q) for q in guide]
        negatives = sum(1 for item, _ in features if not item.get("action")) + len(guide_features)
        grid = itertools.product((0.25, 0.35, 0.45, 0.55), (0.45, 0.55, 0.65), (0.35, 0.45, 0.55, 0.65),
                                 (0.75, 0.85, 0.95), (0.8, 0.85, 0.9, 0.95))  # fmt: skip
        for request, own, plain, own_sure, plain_sure in grid:
            understander.thresholds = t = replace(base, request=request, own=own, plain=plain, keyword=keyword,
                                                  named=named, own_sure=own_sure, plain_sure=plain_sure)  # fmt: skip
            right = sum(
                1
                for item, f in features
                if item.get("action") and (u := understander.decide(f)).kind == "act" and u.action.id == item["action"]
            )
            false = sum(1 for item, f in features if not item.get("action") and understander.decide(f).kind == "act")
            false += sum(1 for f in guide_features if understander.decide(f).kind == "act")
            if false / negatives <= 0.01 and (best is None or right > best[0]):
                best = (right, false, negatives, t)
    print(f"best on dev: {best[0]} right, {best[1]} false actions of {best[2]}, {best[3]}", file=sys.stderr)


def _named(actions, text: str) -> frozenset[str]:
    return actions.live(text, "bench")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list the dev misses")
    parser.add_argument("--heldout", action="store_true", help="also the held-out half (totals only; at the end)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    actions = build()
    print(f"built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.fit:
        today, items = load("dev")
        items = [i for name in present(DEV) for i in load(name)[1]]
        fit(actions, items, guide_questions(("questions", "realistic-dev", "realistic-dev2", "realistic-dev3")), today)
        return 0
    print("| set | requests | action accuracy | asked which (right one among them) | wrong action or none | "
          "arguments right | negatives | false actions | offers right |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    sets = present(DEV + (HELDOUT if args.heldout else ()))
    for name in sets:
        today, items = load(name)
        s = score(actions, items, today, verbose=args.verbose and name in DEV)
        print(f"| {name} | {s['requests']} | {s['accuracy']:.3f} | {s['clarified']} | {s['wrong']} | "
              f"{s['arguments']:.3f} | {s['negatives']} | {s['false']} ({s['false'] / max(s['negatives'], 1):.1%}) | "
              f"{s['offers']} |")  # fmt: skip
    for name in GUIDE_SETS:
        questions = guide_questions((name,))
        wrong, listed = false_on_guide(actions, questions)
        print(f"| guide: {name} | – | – | – | – | – | {len(questions)} | {wrong} ({wrong / len(questions):.1%}) | – |")
        if args.verbose and name != "realistic-heldout":
            for line in listed:
                print("   false:", line, file=sys.stderr)
    from bot.app.lotse import Lotse

    core = Lotse(actions_services(actions).start())
    for name in sets:
        today, items = load(name)
        ran, proposed = unconfirmed_writes(core, [i for i in items if i.get("action")], today)
        print(f"\n{name}: writes run without a Confirm: {ran} (writes proposed for confirmation: {proposed})")
    timings = []
    _, items = load("dev")
    for item in items:
        begun = time.perf_counter()
        actions.understand(item["text"])
        timings.append((time.perf_counter() - begun) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"\nunderstanding per message: median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms "
          f"({len(timings)} messages)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
