"""The layers of ``mlxc.nn``."""

from mlxc.nn.layers.activations import (
    CELU, ELU, GELU, GLU, SELU, HardShrink, Hardswish, HardTanh, LeakyReLU,
    LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU2, ReLU6, Sigmoid, SiLU,
    Softmax, Softmin, Softplus, Softshrink, Softsign, Step, Tanh,
    celu, elu, gelu, gelu_approx, gelu_fast_approx, glu, hard_shrink, hard_tanh,
    hardswish, leaky_relu, log_sigmoid, log_softmax, mish, prelu, relu, relu2,
    relu6, selu, sigmoid, silu, softmax, softmin, softplus, softshrink, softsign,
    step, tanh,
)
from mlxc.nn.layers.base import Module
from mlxc.nn.layers.containers import Sequential
from mlxc.nn.layers.convolution import Conv1d, Conv2d, Conv3d
from mlxc.nn.layers.convolution_transpose import (
    ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
)
from mlxc.nn.layers.distributed import (
    AllToShardedLinear, FullyShardedModule, QuantizedAllToShardedLinear,
    QuantizedShardedToAllLinear, ShardedToAllLinear, fully_shard,
)
from mlxc.nn.layers.dropout import Dropout, Dropout2d, Dropout3d
from mlxc.nn.layers.embedding import Embedding
from mlxc.nn.layers.linear import Bilinear, Identity, Linear
from mlxc.nn.layers.normalization import (
    BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RMSNorm,
)
from mlxc.nn.layers.pooling import (
    AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d,
)
from mlxc.nn.layers.positional_encoding import ALiBi, RoPE, SinusoidalPositionalEncoding
from mlxc.nn.layers.quantized import QQLinear, QuantizedEmbedding, QuantizedLinear, quantize
from mlxc.nn.layers.recurrent import GRU, LSTM, RNN
from mlxc.nn.layers.transformer import (
    MultiHeadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer,
    TransformerEncoder, TransformerEncoderLayer,
)
from mlxc.nn.layers.upsample import Upsample
