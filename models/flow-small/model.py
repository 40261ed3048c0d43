"""flow-small: the trained flow-matching policy with early exits (A1, arXiv 2604.05672), FR3
end-effector deltas.

stage_0 encodes the observation (language-FiLM conv + spatial-softmax keypoints, instruction,
proprio); stage_k (k >= 1) refines the features; every stage has its own velocity head, all
trained jointly, so the runtime can stop at the first exit whose actions agree with the
previous one's and warm-start a later exit's flow from an earlier exit's actions.
Time convention (as the runtime): t = 0 noise, t = 1 data, x_{t+dt} = x_t + dt v.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from armature_models.flow import ResidualStage, VelocityHead
from armature_models.vision import TwoCameraKeypointEncoder


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 20
    num_cameras: int = 2
    state_dim: int = 8
    action_dim: int = 7
    horizon: int = 16
    feature_dim: int = 256
    exits: int = 3
    stage_hidden: int = 256
    head_hidden: int = 256
    #: t in [0, 1] is multiplied by this before the sinusoidal embedding
    time_scale: float = 100.0
    image_size: int = 64


class FlowSmall(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.stages = nn.ModuleList([TwoCameraKeypointEncoder(vocab_size=cfg.vocab_size, max_length=cfg.max_length,
                                                          state_dim=cfg.state_dim, out_dim=cfg.feature_dim)] + [ResidualStage(cfg.feature_dim, cfg.stage_hidden)
                                                                for _ in range(cfg.exits - 1)])
        self.heads = nn.ModuleList([VelocityHead(horizon=cfg.horizon, action_dim=cfg.action_dim,
                                                 feature_dim=cfg.feature_dim, hidden=cfg.head_hidden, time_dim=128,
                                                 time_scale=cfg.time_scale, layers=3)
                                    for _ in range(cfg.exits)])

    def features(self, *obs: torch.Tensor) -> list:
        h = [self.stages[0](*obs)]
        for k in range(1, self.cfg.exits):
            h.append(self.stages[k](h[-1]))
        return h
