"""Training steps (issue 11): one Adam step of a 784-512-512-10 MLP at batch
256, one Adam step of a 2-layer transformer language model (d_model 256, 4
heads, FFN 1024, seq 128, batch 16, vocab 1000) and one SGD step of a small
CNN (two 3x3 conv + relu + max-pool blocks, 32/64 channels, batch 64 of
32x32x3). Each timed call is the next step of the same training run."""

from .common import W, mx

# name -> (workload, params)
_CASES = {
    "mlp_adam": (W.train_mlp_adam, {}),
    "transformer_adam": (W.train_transformer, {}),
    "cnn_sgd": (W.train_cnn_sgd, {}),
}


class Train:
    params = [list(_CASES)]
    param_names = ["case"]
    timeout = 600
    # Steps are long (up to seconds): a few samples are enough.
    number = 1
    repeat = (1, 5, 30.0)

    def setup(self, case):
        wl, params = _CASES[case]
        try:
            self.run = wl(mx, **params)
        except W.Unavailable as e:  # layers not in this build: not a benchmark
            raise NotImplementedError(str(e))

    def time_step(self, case):
        self.run()
