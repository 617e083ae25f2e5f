"""The emulator's one exception type."""


class MetalError(RuntimeError):
    """A kernel failed to compile, a binding is wrong, or a run broke a rule of Metal's
    execution model (the message names the .metal file:line where it can)."""
