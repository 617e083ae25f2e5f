from mlxc.nn import losses
