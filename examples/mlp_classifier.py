"""Train an MLP classifier on a synthetic three-armed spiral.

    python examples/mlp_classifier.py [--epochs 30]

Written exactly as an MLX script; to run it on MLX, replace ``mlxc`` by ``mlx``
in the three imports below.
"""
import argparse
import math
import time

import mlxc.core as mx
import mlxc.nn as nn
import mlxc.optimizers as optim


def make_spirals(n_per_class, n_classes=3, noise=0.15):
    """Points on ``n_classes`` interleaved spiral arms; the label is the arm."""
    t = mx.random.uniform(shape=(n_classes, n_per_class))
    arm = mx.arange(n_classes)[:, None]
    angle = 4.0 * t + arm * (2 * math.pi / n_classes)
    angle = angle + noise * mx.random.normal(angle.shape)
    points = mx.stack([t * mx.cos(angle), t * mx.sin(angle)], axis=-1)
    labels = mx.broadcast_to(arm, t.shape)
    return points.reshape(-1, 2) * 4.0, labels.reshape(-1)


class MLP(nn.Module):
    def __init__(self, in_dims, hidden_dims, num_layers, out_dims):
        super().__init__()
        sizes = [in_dims] + [hidden_dims] * num_layers + [out_dims]
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = nn.relu(layer(x))
        return self.layers[-1](x)


def loss_fn(model, X, y):
    return nn.losses.cross_entropy(model(X), y, reduction="mean")


def accuracy(model, X, y):
    return mx.mean(mx.argmax(model(X), axis=1) == y)


def batch_iterate(batch_size, X, y):
    perm = mx.random.permutation(y.size)
    for start in range(0, y.size, batch_size):
        ids = perm[start:start + batch_size]
        yield X[ids], y[ids]


def main(epochs=30, batch_size=64, seed=0):
    mx.random.seed(seed)
    train_X, train_y = make_spirals(600)
    test_X, test_y = make_spirals(200)

    model = MLP(2, 64, 2, 3)
    mx.eval(model.parameters())
    optimizer = optim.Adam(learning_rate=1e-2)
    loss_and_grad_fn = nn.value_and_grad(model, loss_fn)

    for epoch in range(epochs):
        tic = time.perf_counter()
        losses = []
        for X, y in batch_iterate(batch_size, train_X, train_y):
            loss, grads = loss_and_grad_fn(model, X, y)
            optimizer.update(model, grads)
            mx.eval(model.parameters(), optimizer.state)
            losses.append(loss.item())
        toc = time.perf_counter()
        test_acc = accuracy(model, test_X, test_y).item()
        print(f"Epoch {epoch}: train loss {sum(losses) / len(losses):.3f}, "
              f"test accuracy {test_acc:.3f}, time {toc - tic:.3f} s")
    return test_acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.epochs, args.batch_size, args.seed)
