"""Train a small character-level transformer language model on a few of
Shakespeare's sonnets (public domain, examples/data/sonnets.txt), then sample.

    python examples/transformer_lm.py [--steps 300]

Written exactly as an MLX script; to run it on MLX, replace ``mlxc`` by ``mlx``
in the three imports below.
"""
import argparse
import os
import time

import mlxc.core as mx
import mlxc.nn as nn
import mlxc.optimizers as optim

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sonnets.txt")


class TransformerLM(nn.Module):
    def __init__(self, vocab_size, num_layers, dims, num_heads, context):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dims)
        self.positions = nn.Embedding(context, dims)  # learned position embeddings
        self.transformer = nn.TransformerEncoder(num_layers, dims, num_heads,
                                                 mlp_dims=4 * dims)
        self.out_proj = nn.Linear(dims, vocab_size)

    def __call__(self, x):
        length = x.shape[1]
        mask = nn.MultiHeadAttention.create_additive_causal_mask(length)
        x = self.embedding(x) + self.positions(mx.arange(length))
        return self.out_proj(self.transformer(x, mask))


def loss_fn(model, x, y):
    return nn.losses.cross_entropy(model(x), y, reduction="mean")


def get_batch(data, batch_size, context):
    """Random windows of the text and the same windows shifted by one."""
    starts = mx.random.randint(0, data.size - context - 1, (batch_size, 1))
    ids = starts + mx.arange(context + 1)
    windows = data[ids]
    return windows[:, :-1], windows[:, 1:]


def generate(model, prompt, length, context, temperature=0.7):
    tokens = list(prompt)
    for _ in range(length):
        x = mx.array([tokens[-context:]])
        logits = model(x)[:, -1, :]
        next_token = mx.random.categorical(logits * (1 / temperature))
        tokens.append(next_token.item())
    return tokens


def main(steps=300, batch_size=16, context=32, dims=64, num_layers=2, num_heads=4,
         seed=0, sample_length=160):
    mx.random.seed(seed)
    with open(TEXT) as f:
        text = f.read()
    chars = sorted(set(text))
    to_id = {c: i for i, c in enumerate(chars)}
    data = mx.array([to_id[c] for c in text])
    print(f"{len(text)} characters, vocabulary of {len(chars)}")

    model = TransformerLM(len(chars), num_layers, dims, num_heads, context)
    mx.eval(model.parameters())
    schedule = optim.join_schedules(
        [optim.linear_schedule(1e-4, 3e-3, 50), optim.cosine_decay(3e-3, max(steps - 50, 1))],
        [50])
    optimizer = optim.AdamW(learning_rate=schedule, weight_decay=0.01)
    loss_and_grad_fn = nn.value_and_grad(model, loss_fn)

    tic = time.perf_counter()
    losses = []
    for step in range(steps):
        x, y = get_batch(data, batch_size, context)
        loss, grads = loss_and_grad_fn(model, x, y)
        grads, _ = optim.clip_grad_norm(grads, max_norm=1.0)
        optimizer.update(model, grads)
        mx.eval(model.parameters(), optimizer.state)
        losses.append(loss.item())
        if (step + 1) % 50 == 0 or step + 1 == steps:
            toc = time.perf_counter()
            print(f"Step {step + 1}: loss {sum(losses) / len(losses):.3f}, "
                  f"lr {optimizer.learning_rate.item():.2e}, "
                  f"{len(losses) / (toc - tic):.1f} steps/s")
            losses, tic = [], time.perf_counter()

    prompt = [to_id[c] for c in "Shall I "]
    sample = generate(model, prompt, sample_length, context)
    print("Sample:\n" + "".join(chars[i] for i in sample))
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--context", type=int, default=32)
    parser.add_argument("--sample-length", type=int, default=160)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(steps=args.steps, batch_size=args.batch_size, context=args.context,
         seed=args.seed, sample_length=args.sample_length)
