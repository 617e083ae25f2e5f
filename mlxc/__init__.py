"""mlxc: a compiled reimplementation of MLX."""
