"""Records MLX 0.32.4's einsum_path output for tests/test_einsum.py.

Run with the reference interpreter: /work/mlxref/bin/python tests/data/einsum_path_mlx.py
Writes tests/data/einsum_path_mlx.json: [subscripts, operand shapes, path, report]."""
import json
import os
import random

import mlx.core as mx

FIXED = [
    ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 5]]),
    ("ij,jk", [[2, 3], [3, 4]]),
    ("ii", [[3, 3]]),
    ("ij->ji", [[3, 4]]),
    ("...ij,...jk", [[2, 3, 4], [4, 5]]),
    (" ij , jk -> ik", [[3, 4], [4, 5]]),
    ("ij,jk,kl,lm,mn->in", [[1000, 10], [10, 1000], [1000, 10], [10, 1000], [1000, 3]]),
    ("ab,bc,cd,de,ef,fg,gh->ah", [[5, 5]] * 7),
    ("ij,ij->ij", [[3, 3], [3, 3]]),
    ("i,i->", [[3], [3]]),
    ("ij,kl->", [[3, 4], [4, 5]]),
    ("ij,jk->ik", [[3, 1], [4, 6]]),
    ("Ab,bC", [[3, 4], [4, 5]]),
    ("ab,bc,cd,de", [[1, 4], [4, 1], [1, 4], [4, 4]]),
    ("iij,jk", [[3, 3, 4], [4, 6]]),
    ("...ij,...jk->...ik", [[2, 1, 3, 4], [5, 4, 6]]),
    ("bij,bjk->bik", [[32, 128, 128], [32, 128, 128]]),
]


def random_cases(seed, count, big):
    """Random multi-operand contractions; big sizes make the size limit matter."""
    rng = random.Random(seed)
    letters = "abcdefgh"
    out = []
    for _ in range(count):
        dims = {c: rng.choice([2, 3, 5, 9, 20] if big else [1, 2, 3, 5, 8]) for c in letters}
        terms = ["".join(rng.sample(letters[:rng.randint(3, 8)], rng.randint(1, 3)))
                 for _ in range(rng.randint(3, 7))]
        allc = sorted(set("".join(terms)))
        res = "".join(rng.sample(allc, rng.randint(0, min(3, len(allc)))))
        out.append((",".join(terms) + "->" + res, [[dims[c] for c in t] for t in terms]))
    return out


cases = FIXED + random_cases(0, 40, False) + random_cases(1, 40, True)
rec = []
for s, shapes in cases:
    path, report = mx.einsum_path(s, *[mx.ones(sh) for sh in shapes])
    rec.append([s, shapes, [list(p) for p in path], report])
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "einsum_path_mlx.json"),
          "w") as f:
    json.dump(rec, f, indent=0)
