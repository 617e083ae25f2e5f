"""``Sequential``: modules called one after another."""

from mlxc.nn.layers.base import Module


class Sequential(Module):
    """Calls each of ``modules`` (or callables) on the previous output.

    The modules live in the ``layers`` list, so their parameters are named
    ``layers.0.weight`` and so on.
    """

    def __init__(self, *modules):
        super().__init__()
        self.layers = list(modules)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
