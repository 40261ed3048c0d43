"""flow-base with random weights (export check): `/usr/bin/python3 models/flow-base/build.py`."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from armature_models.flow_policy import build_random  # noqa: E402
from armature_models.tokenizer import default_vocab  # noqa: E402
from model import NAME, config  # noqa: E402

if __name__ == "__main__":
    build_random(HERE, name=NAME, cfg=config(len(default_vocab())))
