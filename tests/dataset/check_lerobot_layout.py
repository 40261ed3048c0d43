"""Load an Armature-written dataset the way LeRobot v3.0 does (pyarrow, pandas,
HF datasets when installed) and print 'ok'. Usage: check_lerobot_layout.py ROOT TASK0 TASK1
Mirrors lerobot/datasets/io_utils.py (load_tasks, load_episodes, load_nested_dataset)
and feature_utils.get_hf_features_from_features."""
import glob
import json
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

root, tasks_expected = sys.argv[1], sys.argv[2:]
info = json.load(open(f"{root}/meta/info.json"))
assert info["codebase_version"] == "v3.0"

# load_tasks: pandas restores the 'task' index; task strings come from .iloc[i].name
tasks = pd.read_parquet(f"{root}/meta/tasks.parquet")
tasks.index.name = "task"
assert list(tasks.index) == tasks_expected, tasks
assert [tasks.iloc[i].name for i in range(len(tasks))] == tasks_expected
assert int(tasks.loc[tasks_expected[1]].task_index) == 1

data_paths = sorted(glob.glob(f"{root}/data/*/*.parquet"))
table = pq.read_table(data_paths)
assert table.num_rows == info["total_frames"], table.num_rows
ep_paths = sorted(glob.glob(f"{root}/meta/episodes/*/*.parquet"))
eps = pd.concat([pd.read_parquet(p) for p in ep_paths])
assert list(eps["episode_index"]) == list(range(info["total_episodes"]))
assert eps["dataset_to_index"].iloc[-1] == info["total_frames"]

stats = json.load(open(f"{root}/meta/stats.json"))
for key, ft in info["features"].items():
    s = {k: np.atleast_1d(np.array(v)) for k, v in stats[key].items()}
    assert s["count"].shape == (1,)
    if ft["dtype"] in ("image", "video"):
        assert s["mean"].shape == (3, 1, 1), (key, s["mean"].shape)
    else:
        assert s["mean"].shape == tuple(ft["shape"]), (key, s["mean"].shape)

try:
    import datasets
except ImportError:
    datasets = None

if datasets is not None:
    feats = {}
    for key, ft in info["features"].items():
        if ft["dtype"] == "video":
            continue
        if ft["dtype"] == "image":
            feats[key] = datasets.Image()
        elif ft["shape"] == [1]:
            feats[key] = datasets.Value(dtype=ft["dtype"])
        else:
            feats[key] = datasets.Sequence(length=ft["shape"][0], feature=datasets.Value(dtype=ft["dtype"]))
    ds = datasets.Dataset.from_parquet(data_paths, features=datasets.Features(feats))
    row = ds[info["total_frames"] - 1]
    assert len(row["observation.state"]) == info["features"]["observation.state"]["shape"][0]
    assert row["index"] == info["total_frames"] - 1
    for key, ft in info["features"].items():
        if ft["dtype"] == "image":
            img = row[key]
            assert img.mode == "RGB" and img.size == (ft["shape"][1], ft["shape"][0]), (img.mode, img.size)
    ep_ds = datasets.Dataset.from_parquet(ep_paths)
    ep_ds = ep_ds.select_columns([k for k in ep_ds.features if not k.startswith("stats/")])
    assert ep_ds[1]["dataset_from_index"] == eps["dataset_from_index"].iloc[1]
    print("ok (pyarrow, pandas, datasets)")
else:
    print("ok (pyarrow, pandas)")
