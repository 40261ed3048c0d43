"""Train flow-base on expert demonstrations, then export the package (loss and recipe:
armature_models/flow_policy.py).

Run through `npm run train -- flow-base`, or directly:
    /usr/bin/python3 models/flow-base/train.py --arrays <arrays> --checkpoint <dir> [--steps N]

--base <checkpoint folder> (train.json stage `recovery`): fine-tune the main training's EMA weights on
its demonstrations plus handoff recovery data, normalized with the main training's stats.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from armature_models.flow_policy import train_flow  # noqa: E402
from armature_models.tokenizer import default_vocab  # noqa: E402
from model import NAME, config  # noqa: E402

if __name__ == "__main__":
    train_flow(HERE, cfg=config(len(default_vocab())), name=NAME)
