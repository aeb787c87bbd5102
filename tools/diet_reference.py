"""Rasa's stock NLU pipeline (WhitespaceTokenizer, CountVectors word + char_wb 1–4, DIET)
trained on our training data and scored on the same sets as `make eval`: the reference that
says what the project's own pipeline (docs/decisions/0002) is worth. Slow — on 2 cores and
~21,600 examples an epoch takes about 2 minutes (20 epochs: 49 min, 3.2 GB) — so it is not
part of `make eval`; run it with
`python -m tools.diet_reference [--epochs 100] [--set tests/nlu_real]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path

import yaml

from bot.languages import registry
from bot.settings import PROJECT_ROOT
from tools.evaluate import REAL_DIR, evaluate, load_nlu_agent, quiet_rasa


def stock_config(epochs: int) -> dict:
    return {
        "recipe": "default.v1", "language": "xx",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1,
             "max_ngram": 4},
            {"name": "DIETClassifier", "epochs": epochs, "random_seed": 42},
            {"name": "FallbackClassifier", "threshold": 0.3},
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--set", type=Path, action="append", default=None)
    parser.add_argument("--json", type=Path, default=PROJECT_ROOT / "reports" / "diet.json")
    args = parser.parse_args()
    quiet_rasa()
    from rasa.model_training import train_nlu

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yml"
        config.write_text(yaml.safe_dump(stock_config(args.epochs)))
        started = time.perf_counter()
        model = train_nlu(config=str(config), nlu_data=str(PROJECT_ROOT / "data" / "nlu"),
                          output=tmp, fixed_model_name="diet",
                          domain=str(PROJECT_ROOT / "domain.yml"))
        train_s = time.perf_counter() - started
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        agent = load_nlu_agent(Path(str(model)))
        out = {"epochs": args.epochs, "train_s": round(train_s), "peak_gb": round(peak_gb, 2)}
        print(f"DIET ({args.epochs} epochs) trained in {train_s / 60:.1f} min, "
              f"peak {peak_gb:.1f} GB")
        for root in args.set or [REAL_DIR]:
            results = asyncio.run(evaluate(agent, list(registry().codes), root))
            macro = sum(r.accuracy for r in results) / len(results)
            styles: dict[str, list[int]] = {}
            for r in results:
                for style, score in r.per_style.items():
                    cell = styles.setdefault(style, [0, 0])
                    cell[0] += score.correct
                    cell[1] += score.total
            print(f"{root.name}: " + ", ".join(f"{r.language} {r.accuracy:.3f}" for r in results)
                  + f"; macro {macro:.3f}")
            if styles:
                print("  by style: " + ", ".join(f"{s} {c / t:.3f}" for s, (c, t)
                                                  in sorted(styles.items())))
            out[root.name] = {"macro": round(macro, 4),
                              "languages": {r.language: round(r.accuracy, 4) for r in results},
                              "styles": {s: round(c / t, 4) for s, (c, t) in styles.items()}}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
