"""mx.cuda: MLX's CUDA namespace.  mlxc has no CUDA backend."""

__all__ = ["is_available"]


def is_available():
    """is_available() -> bool

    Check if the CUDA back-end is available (never, in mlxc)."""
    return False
