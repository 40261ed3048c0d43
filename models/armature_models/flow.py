"""Pieces shared by the flow-matching policies with early exits (flow-tiny, flow-small).

Time convention (as the runtime): t = 0 noise, t = 1 data, x_{t+dt} = x_t + dt v.
"""
from __future__ import annotations

import torch
from torch import nn

from .nets import TimeEmbedding, mlp


class ResidualStage(nn.Module):
    """stage_k (k >= 1): features_in [B, F] -> LayerNorm(x + MLP(x))."""

    def __init__(self, feature_dim: int, hidden: int):
        super().__init__()
        self.mlp = mlp([feature_dim, hidden, feature_dim])
        self.norm = nn.LayerNorm(feature_dim)

    def forward(self, features_in: torch.Tensor) -> torch.Tensor:
        return self.norm(features_in + self.mlp(features_in))


class VelocityHead(nn.Module):
    """head_k: forward(actions x_t [B, T, A], time t [B], features h_k [B, F]) -> velocity [B, T, A].

    MLP over [flattened x_t, time embedding (time_dim), features] with `layers` hidden layers,
    LayerNorm, then a linear map back to the chunk."""

    def __init__(self, *, horizon: int, action_dim: int, feature_dim: int, hidden: int, time_dim: int,
                 time_scale: float, layers: int = 2):
        super().__init__()
        self.horizon, self.action_dim = horizon, action_dim
        flat = horizon * action_dim
        self.temb = TimeEmbedding(time_dim, freq_dim=32, scale=time_scale)
        self.net = nn.Sequential(mlp([flat + time_dim + feature_dim] + [hidden] * layers), nn.LayerNorm(hidden),
                                 nn.Linear(hidden, flat))

    def forward(self, actions: torch.Tensor, time: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        h = torch.cat([actions.flatten(1), self.temb(time), features], dim=-1)
        return self.net(h).reshape(-1, self.horizon, self.action_dim)


def export_exits(stages: list, heads, stage0_inputs: dict, *, horizon: int, action_dim: int, out_dir) -> tuple:
    """Export stage_k / head_k graph pairs with chained goldens (stage_k's golden output feeds
    stage_k+1 and head_k; head inputs drawn from a generator seeded 11). `stages[0]` is the module
    exported as stage_0 (e.g. wrapped to take uint8 pixels). Returns (graph specs, manifest exits)."""
    from .export import export_graph  # noqa: PLC0415  (onnx is needed only when exporting)

    graphs: dict = {}
    exits = []
    g = torch.Generator().manual_seed(11)
    features = None
    for k, (stage_module, head_module) in enumerate(zip(stages, heads)):
        inputs = stage0_inputs if k == 0 else {"features_in": features}
        stage = export_graph(stage_module, name=f"stage_{k}", out_dir=out_dir, inputs=inputs, output_names=["features"])
        features = stage.outputs["features"]
        head_inputs = {"actions": torch.randn(1, horizon, action_dim, generator=g),
                       "time": torch.rand(1, generator=g), "features": features}
        head = export_graph(head_module, name=f"head_{k}", out_dir=out_dir, inputs=head_inputs, output_names=["velocity"])
        graphs[f"stage_{k}"] = stage.spec
        graphs[f"head_{k}"] = head.spec
        exits.append({"stage": f"stage_{k}", "head": f"head_{k}"})
    return graphs, exits
