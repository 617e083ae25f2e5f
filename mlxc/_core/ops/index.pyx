"""index op constructors (being written)."""
__all__ = []
