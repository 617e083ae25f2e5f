"""mlxc: a compiled reimplementation of MLX."""

__version__ = "0.1.0"        # this package's own version (pyproject.toml's)
