"""Word tokenizer shared by every Armature model package.

The rule below is implemented identically on the TypeScript side
(src/transforms or src/policy); change both or neither.

    1. lowercase the instruction;
    2. split on any run of characters outside [a-z0-9];
    3. drop empty pieces;
    4. map each piece to its line index in vocab.txt; unknown words -> 1 (<unk>);
    5. truncate to max_length;
    6. pad with 0 (<pad>) up to max_length;
    7. mask is 1.0 for real tokens (including <unk>), 0.0 for padding.

vocab.txt holds one token per line: line 0 is <pad>, line 1 is <unk>.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Sequence, Tuple

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1

_SPLIT = re.compile(r"[^a-z0-9]+")

# LIBERO-style manipulation vocabulary (spatial, object, goal, 10 and 90 suites), plus
# generic words for other tabletop instructions. Order is the id order: never reorder
# or delete, only append, or trained packages lose their meaning.
WORDS: Tuple[str, ...] = (
    # function words
    "a", "an", "the", "and", "it", "its", "them", "of", "on", "in", "into", "onto", "to",
    "at", "from", "with", "inside", "between", "next", "near", "behind", "front", "back",
    "top", "middle", "bottom", "left", "right", "center", "side", "both", "all", "then",
    "up", "down", "off", "out", "over", "under", "above", "below", "beside", "is", "that",
    "this", "there", "other", "another", "one", "two", "three", "first", "second",
    "last", "each", "away", "close", "far", "same", "only", "please", "can", "you",
    # verbs
    "pick", "place", "put", "open", "shut", "turn", "push", "pull", "stack", "move",
    "lift", "grasp", "grab", "hold", "drop", "release", "slide", "rotate", "flip",
    "pour", "insert", "remove", "take", "set", "bring", "hang", "fold", "wipe", "press",
    "switch", "reach", "go", "stop", "make", "leave", "keep", "use", "tidy", "clean",
    "sort", "arrange", "store", "empty", "fill",
    # containers and furniture
    "bowl", "bowls", "plate", "plates", "basket", "drawer", "drawers", "cabinet",
    "stove", "microwave", "rack", "caddy", "compartment", "shelf", "table", "tray",
    "box", "bin", "container", "cup", "mug", "mugs", "ramekin", "cookie", "cookies",
    "pan", "pot", "pots", "lid", "door", "handle", "knob", "burner", "sink", "counter",
    "desk", "chair", "floor", "wall", "cloth", "towel", "sponge",
    # objects
    "bottle", "wine", "ketchup", "sauce", "tomato", "bbq", "butter", "milk", "cream",
    "cheese", "soup", "alphabet", "salad", "dressing", "orange", "juice", "chocolate",
    "pudding", "moka", "frying", "book", "books", "block", "blocks", "cube", "cubes",
    "ball", "can", "jar", "spoon", "fork", "knife", "apple", "banana", "carrot",
    "corn", "egg", "bread", "pen", "marker", "toy", "object", "objects", "item",
    "items", "porcelain", "kettle", "glass", "teapot",
    # attributes
    "black", "white", "red", "yellow", "green", "blue", "gray", "grey", "brown",
    "pink", "purple", "wooden", "metal", "plastic", "small", "big", "large", "tall",
    "short", "flat", "round", "square", "empty", "full", "clean", "dirty", "new",
    "old", "closest", "farthest", "nearest",
    # places
    "kitchen", "living", "room", "study", "scene", "area", "region", "corner", "edge",
    "end", "way", "position",
)


def default_vocab() -> List[str]:
    """<pad>, <unk>, then WORDS without duplicates (first occurrence wins)."""
    seen = {PAD, UNK}
    out = [PAD, UNK]
    for w in WORDS:
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def write_vocab(path: Path, vocab: Sequence[str]) -> None:
    if vocab[PAD_ID] != PAD or vocab[UNK_ID] != UNK:
        raise ValueError(f"vocab must start with {PAD}, {UNK}")
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")


def read_vocab(path: Path) -> List[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def split_words(text: str) -> List[str]:
    return [p for p in _SPLIT.split(text.lower()) if p]


def tokenize(text: str, vocab: Sequence[str], max_length: int) -> Tuple[List[int], List[float]]:
    """Token ids (padded with 0) and mask (1.0 per real token), both of length max_length."""
    index = {w: i for i, w in enumerate(vocab)}
    ids = [index.get(w, UNK_ID) for w in split_words(text)][:max_length]
    mask = [1.0] * len(ids) + [0.0] * (max_length - len(ids))
    ids = ids + [PAD_ID] * (max_length - len(ids))
    return ids, mask


#: instructions whose ids the TypeScript tokenizer must reproduce (see tokenizer_cases.json)
CASES: Tuple[str, ...] = (
    "pick up the black bowl and place it on the plate",
    "Open the TOP drawer of the cabinet.",
    "put both the alphabet soup and the tomato sauce in the basket",
    "turn on the stove, and put the moka pot on it!!",
    "  stack the_black-bowl   on\tthe plate\n",
    "put the zorblax in the frobnicator",
    "pick place put the black bowl plate on in basket open close drawer top middle bottom of cabinet stove",
    "LIVING_ROOM_SCENE2 put 2 mugs on plate 1",
    "",
    "...",
)


def write_cases(path: Path, vocab: Sequence[str], max_length: int = 16) -> None:
    """Conformance data for the TypeScript tokenizer: [{text, ids, mask}] with the default vocabulary."""
    import json

    cases = []
    for text in CASES:
        ids, mask = tokenize(text, vocab, max_length)
        cases.append({"text": text, "ids": ids, "mask": mask})
    body = ",\n".join("  " + json.dumps(c) for c in cases)
    path.write_text(f'{{"max_length": {max_length}, "vocab_size": {len(vocab)}, "cases": [\n{body}\n]}}\n',
                    encoding="utf-8")


if __name__ == "__main__":
    write_cases(Path(__file__).resolve().parent.parent / "tokenizer_cases.json", default_vocab())
