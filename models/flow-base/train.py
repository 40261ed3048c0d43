"""Train flow-base (`npm run train -- flow-base`; sizes in model.py, recipe in
armature_models/flow_policy.py), then export the package."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from armature_models.flow_policy import train_flow  # noqa: E402
from armature_models.tokenizer import default_vocab  # noqa: E402
from model import NAME, config  # noqa: E402

if __name__ == "__main__":
    train_flow(HERE, cfg=config(len(default_vocab())), name=NAME)
