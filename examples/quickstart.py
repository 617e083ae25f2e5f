"""Quick start: fit a linear regression by gradient descent with mlxc.

Run it with `python examples/quickstart.py`.  The same script runs on MLX with
`import mlx.core as mx`.
"""
import time

import mlxc.core as mx

# Synthetic data: y = X @ w_true + b_true + noise.
n, d = 1000, 8
X = mx.array([[((i * 7 + j * 13) % 17) / 17.0 - 0.5 for j in range(d)] for i in range(n)])
w_true = mx.arange(1, d + 1, dtype=mx.float32) / d
b_true = 0.5
noise = mx.sin(mx.arange(n, dtype=mx.float32)) * 0.01
y = X @ w_true + b_true + noise

w = mx.zeros((d,))
b = mx.array(0.0)
lr = 0.5

start = time.perf_counter()
for step in range(500):
    err = X @ w + b - y                  # residuals, shape (n,)
    loss = mx.mean(err * err)
    grad_w = 2.0 * (X.T @ err) / n       # analytic gradient of the mean squared error
    grad_b = 2.0 * mx.mean(err)
    w = w - lr * grad_w
    b = b - lr * grad_b
    mx.eval(w, b, loss)
    if step % 100 == 0:
        print(f"step {step:4d}  loss {loss.item():.6f}")
elapsed = time.perf_counter() - start

print(f"final loss {loss.item():.6f} after 500 steps in {elapsed * 1e3:.1f} ms")
print("learned w:", w)
print("true w:   ", w_true)
print(f"learned b: {b.item():.4f} (true {b_true})")
print("max |w - w_true|:", mx.max(mx.abs(w - w_true)).item())
