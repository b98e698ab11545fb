"""A Hydra app choosing its datamodule by registry name (``conf/data/*.yaml``).

    python examples/hydra/train.py                       # conf/data/moons.yaml
    python examples/hydra/train.py data=points data.batch_size=16
    python examples/hydra/train.py data=wine                # a table: inputs are a dict
    python examples/hydra/train.py data.version=1.0.0    # pin a version

Each data config is ``{_target_: dmzoo.load_datamodule, name: ..., **kwargs}``;
``_convert_: all`` hands nested values over as plain lists/dicts, not OmegaConf nodes.
"""

from __future__ import annotations

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    dm = instantiate(cfg.data)
    dm.prepare_data()
    dm.setup("fit")
    print(dm.spec.ref, dict(dm.hparams))
    for epoch in range(cfg.epochs):
        batches = examples = 0
        for _inputs, target in dm.train_dataloader():  # inputs: a tensor or a dict of tensors
            batches, examples = batches + 1, examples + len(target)
        print(f"epoch {epoch}: {batches} batches, {examples} examples")


if __name__ == "__main__":
    main()
