"""reduce op constructors (being written)."""
__all__ = []
