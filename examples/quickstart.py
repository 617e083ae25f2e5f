"""Quick start: train a small model the MLX way with mlxc.

    python examples/quickstart.py

A linear-regression model (nn.Linear) fitted with nn.value_and_grad and an
optimizer, exactly as an MLX script is written; to run it on MLX, replace
``mlxc`` by ``mlx`` in the three imports below.
"""
import time

import mlxc.core as mx
import mlxc.nn as nn
import mlxc.optimizers as optim

mx.random.seed(0)

# Synthetic data: y = X @ w_true + b_true + noise.
n, d = 1000, 8
X = mx.random.uniform(-0.5, 0.5, (n, d))
w_true = mx.arange(1, d + 1, dtype=mx.float32) / d
b_true = 0.5
y = X @ w_true + b_true + 0.01 * mx.random.normal((n,))

model = nn.Linear(d, 1)
mx.eval(model.parameters())


def loss_fn(model, X, y):
    return nn.losses.mse_loss(model(X)[:, 0], y)


loss_and_grad = nn.value_and_grad(model, loss_fn)
optimizer = optim.SGD(learning_rate=0.5)

start = time.perf_counter()
for step in range(500):
    loss, grads = loss_and_grad(model, X, y)
    optimizer.update(model, grads)
    mx.eval(model.parameters(), optimizer.state, loss)
    if step % 100 == 0:
        print(f"step {step:4d}  loss {loss.item():.6f}")
elapsed = time.perf_counter() - start

print(f"final loss {loss.item():.6f} after 500 steps in {elapsed * 1e3:.1f} ms")
print("learned w:", model.weight[0])
print("true w:   ", w_true)
print(f"learned b: {model.bias.item():.4f} (true {b_true})")
print("max |w - w_true|:", mx.max(mx.abs(model.weight[0] - w_true)).item())
