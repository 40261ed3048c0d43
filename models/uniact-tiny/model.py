"""uniact-tiny: universal actions (UniAct, arXiv 2501.10105) at toy scale.

A camera-agnostic backbone reads one image + instruction and predicts logits over a
codebook of universal actions (256 codes x 32 dims) plus a feature vector; one small
decoder per embodiment turns (universal action embedding, features, own proprio) into
that robot's normalized action chunk. A new robot needs only a new decoder.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

import torch
from torch import nn

from armature_models.nets import ObservationEncoder, mlp


@dataclass(frozen=True)
class Config:
    vocab_size: int
    max_length: int = 16
    codebook_size: int = 256
    codebook_dim: int = 32
    feature_dim: int = 64
    chunk_length: int = 8
    #: model image size after the in-graph pooling, px
    image_size: int = 64
    #: camera pixels the backbone takes (uint8 HWC); None: normalized float CHW images of image_size
    pixel_size: Optional[int] = 128
    #: embodiment -> (state_dim, action_dim)
    embodiments: Dict[str, Tuple[int, int]] = field(default_factory=lambda: {"franka": (8, 8), "agibot": (16, 16)})


class Backbone(nn.Module):
    """forward(image_primary, tokens, token_mask) -> (ua_logits [B, codebook_size], features [B, feature_dim]).

    image_primary is uint8 [B, pixel_size, pixel_size, 3] HWC RGB (pooled to image_size inside)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.encoder = ObservationEncoder(num_cameras=1, vocab_size=cfg.vocab_size, max_length=cfg.max_length,
                                          state_dim=0, out_dim=cfg.feature_dim, image_size=cfg.image_size,
                                          pixel_size=cfg.pixel_size)
        self.logits = nn.Linear(cfg.feature_dim, cfg.codebook_size)

    def forward(self, image_primary: torch.Tensor, tokens: torch.Tensor,
                token_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        features = self.encoder([image_primary], tokens, token_mask)
        return self.logits(features), features


class Decoder(nn.Module):
    """forward(ua_embedding [B, D], features [B, F], state [B, P]) -> actions [B, chunk, A] (normalized)."""

    def __init__(self, cfg: Config, state_dim: int, action_dim: int, hidden: int = 128):
        super().__init__()
        self.chunk_length = cfg.chunk_length
        self.action_dim = action_dim
        self.state = mlp([state_dim, 32, 32])
        # LayerNorm before the output layer keeps actions O(1) even with random weights
        self.net = nn.Sequential(mlp([cfg.codebook_dim + cfg.feature_dim + 32, hidden, hidden]), nn.LayerNorm(hidden),
                                 nn.Linear(hidden, cfg.chunk_length * action_dim))

    def forward(self, ua_embedding: torch.Tensor, features: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        h = torch.cat([ua_embedding, features, self.state(state)], dim=-1)
        return self.net(h).reshape(-1, self.chunk_length, self.action_dim)


class UniActTiny(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.backbone = Backbone(cfg)
        self.codebook = nn.Parameter(torch.randn(cfg.codebook_size, cfg.codebook_dim))
        self.decoders = nn.ModuleDict({name: Decoder(cfg, s, a) for name, (s, a) in cfg.embodiments.items()})

    def forward(self, embodiment: str, image_primary: torch.Tensor, tokens: torch.Tensor, token_mask: torch.Tensor,
                state: torch.Tensor) -> torch.Tensor:
        """Greedy inference: decode the most likely universal action (what the runtime does by default)."""
        logits, features = self.backbone(image_primary, tokens, token_mask)
        ua = self.codebook[logits.argmax(dim=-1)]
        return self.decoders[embodiment](ua, features, state)
