"""flow-tiny: a flow-matching policy with early exits (A1-style truncated, adaptive VLA, arXiv 2604.05672).

The backbone is a chain of stages (stage_0: observation -> h_0; stage_k: h_{k-1} -> h_k);
each exit k has its own velocity head v_k(x_t, t, h_k). The runtime can stop after any
stage when the exits agree, and warm-start a later exit's flow from an earlier one's actions.
Time convention: t = 0 is pure noise, t = 1 is data; x_{t+dt} = x_t + dt * v.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import nn

from armature_models.nets import ObservationEncoder, TimeEmbedding, mlp


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 16
    num_cameras: int = 2
    state_dim: int = 8
    action_dim: int = 8
    horizon: int = 16
    feature_dim: int = 64
    exits: int = 3
    stage_hidden: int = 128
    head_hidden: int = 192
    #: t in [0, 1] is multiplied by this before the sinusoidal embedding
    time_scale: float = 100.0
    #: model image size after the in-graph pooling, px
    image_size: int = 64
    #: camera pixels stage_0 takes (uint8 HWC); None: normalized float CHW images of image_size
    pixel_size: Optional[int] = 128


class ObservationStage(nn.Module):
    """stage_0: forward(image_agentview, image_eye_in_hand, tokens, token_mask, state) -> features [B, F].

    Images are uint8 [B, pixel_size, pixel_size, 3] HWC RGB (pooled to image_size inside)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.net = ObservationEncoder(num_cameras=cfg.num_cameras, vocab_size=cfg.vocab_size,
                                      max_length=cfg.max_length, state_dim=cfg.state_dim, out_dim=cfg.feature_dim,
                                      image_size=cfg.image_size, pixel_size=cfg.pixel_size)

    def forward(self, image_agentview: torch.Tensor, image_eye_in_hand: torch.Tensor, tokens: torch.Tensor,
                token_mask: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        return self.net([image_agentview, image_eye_in_hand], tokens, token_mask, state)


class ResidualStage(nn.Module):
    """stage_k (k >= 1): forward(features_in [B, F]) -> features [B, F] = LayerNorm(x + MLP(x))."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.mlp = mlp([cfg.feature_dim, cfg.stage_hidden, cfg.feature_dim])
        self.norm = nn.LayerNorm(cfg.feature_dim)

    def forward(self, features_in: torch.Tensor) -> torch.Tensor:
        return self.norm(features_in + self.mlp(features_in))


class VelocityHead(nn.Module):
    """head_k: forward(actions x_t [B, T, A], time t [B], features h_k [B, F]) -> velocity [B, T, A]."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.horizon = cfg.horizon
        self.action_dim = cfg.action_dim
        flat = cfg.horizon * cfg.action_dim
        self.temb = TimeEmbedding(cfg.feature_dim, freq_dim=32, scale=cfg.time_scale)
        self.net = nn.Sequential(mlp([flat + 2 * cfg.feature_dim, cfg.head_hidden, cfg.head_hidden]),
                                 nn.LayerNorm(cfg.head_hidden), nn.Linear(cfg.head_hidden, flat))

    def forward(self, actions: torch.Tensor, time: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        h = torch.cat([actions.flatten(1), self.temb(time), features], dim=-1)
        return self.net(h).reshape(-1, self.horizon, self.action_dim)


class FlowTiny(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.stages = nn.ModuleList([ObservationStage(cfg)] + [ResidualStage(cfg) for _ in range(cfg.exits - 1)])
        self.heads = nn.ModuleList([VelocityHead(cfg) for _ in range(cfg.exits)])

    def sample(self, obs: dict, exit: int, steps: int, noise: torch.Tensor) -> torch.Tensor:
        """Euler integration from noise (t = 0) to actions (t = 1) with exit `exit`; reference for the runtime."""
        h = self.stages[0](**obs)
        for k in range(1, exit + 1):
            h = self.stages[k](h)
        x = noise
        for i in range(steps):
            t = torch.full((x.shape[0],), i / steps)
            x = x + self.heads[exit](x, t, h) / steps
        return x
