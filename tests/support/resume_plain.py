"""Half of a plain training loop, for the cross-process resume tests.

    python resume_plain.py save   CASES.json STATE_DIR OUT.json --num-workers N --k K
    python resume_plain.py resume CASES.json STATE_DIR OUT.json --num-workers N

``CASES.json`` maps a case name to ``[datamodule name, kwargs]``. ``save`` takes ``K``
training batches of each case and saves the loader and datamodule with
``dmzoo.interop.save_training_state``; ``resume`` loads them into a freshly made loader
and takes the rest of that epoch plus one more. ``OUT.json``: per case, the per-sample
fingerprints of each batch taken.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import dmzoo
from dmzoo.interop import load_training_state, save_training_state

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resume_lightning import sample_fingerprints  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["save", "resume"])
    parser.add_argument("cases", type=Path)
    parser.add_argument("states", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--k", type=int, default=0)
    args = parser.parse_args()

    seen = {}
    for case, (name, kwargs) in json.loads(args.cases.read_text()).items():
        dm = dmzoo.load_datamodule(name, **kwargs, num_workers=args.num_workers)
        dm.setup("fit")
        loader = dm.train_dataloader()
        state = args.states / f"{case}.pt"
        if args.mode == "save":
            batches = iter(loader)
            seen[case] = [sample_fingerprints(next(batches)) for _ in range(args.k)]
            save_training_state(state, loader=loader, datamodule=dm)
            del batches
        else:
            assert load_training_state(state, loader=loader, datamodule=dm)
            seen[case] = [sample_fingerprints(b) for _ in range(2) for b in loader]
    args.out.write_text(json.dumps(seen))


if __name__ == "__main__":
    main()
