"""Train a small convolutional network to tell bars apart in noisy images.

    python examples/cnn_classifier.py [--epochs 5]

Each 16x16 image holds one thick bar -- horizontal, vertical or diagonal (the
three classes) -- at a random place, under Gaussian noise. Written exactly as
an MLX script; to run it on MLX, replace ``mlxc`` by ``mlx`` in the three
imports below.
"""
import argparse
import time

import mlxc.core as mx
import mlxc.nn as nn
import mlxc.optimizers as optim

SIZE = 16
CLASSES = ["horizontal", "vertical", "diagonal"]


def make_bars(n, noise=1.0):
    """``n`` images of shape (SIZE, SIZE, 1) (NHWC) and their class labels."""
    labels = mx.random.randint(0, len(CLASSES), (n,))
    where = mx.random.randint(2, SIZE - 2, (n, 1, 1))
    rows = mx.arange(SIZE)[:, None]
    cols = mx.arange(SIZE)[None, :]
    horizontal = mx.abs(rows - where) <= 1
    vertical = mx.abs(cols - where) <= 1
    diagonal = mx.abs(rows - cols - (where - SIZE // 2)) <= 1
    kind = labels[:, None, None]
    bars = mx.where(kind == 0, horizontal, mx.where(kind == 1, vertical, diagonal))
    images = bars.astype(mx.float32) + noise * mx.random.normal(bars.shape)
    return images[..., None], labels


class CNN(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.head = nn.Linear(16 * (SIZE // 4) ** 2, num_classes)

    def __call__(self, x):
        x = self.pool(nn.relu(self.conv1(x)))
        x = self.pool(nn.relu(self.conv2(x)))
        return self.head(x.reshape(x.shape[0], -1))


def loss_fn(model, X, y):
    return nn.losses.cross_entropy(model(X), y, reduction="mean")


def accuracy(model, X, y):
    return mx.mean(mx.argmax(model(X), axis=1) == y)


def batch_iterate(batch_size, X, y):
    perm = mx.random.permutation(y.size)
    for start in range(0, y.size, batch_size):
        ids = perm[start:start + batch_size]
        yield X[ids], y[ids]


def main(epochs=5, batch_size=32, seed=0, train_size=1536):
    mx.random.seed(seed)
    train_X, train_y = make_bars(train_size)
    test_X, test_y = make_bars(512)

    model = CNN(len(CLASSES))
    mx.eval(model.parameters())
    optimizer = optim.SGD(learning_rate=0.05, momentum=0.9)
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
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-size", type=int, default=1536)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.epochs, args.batch_size, args.seed, args.train_size)
