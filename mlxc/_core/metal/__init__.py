"""The GPU half: Metal kernels (the top-level metal/ sources, installed as mlxc/_metal)
dispatched through one interface (dispatch.py) to one of two executors: Metal itself on
macOS (executor_metal.py, through pyobjc) or the test suite's emulated Metal device
(executor_emu.py, MLXC_METAL_EMULATE=1).  gpu_eval.pyx holds the primitives' eval_gpu."""
