"""join op constructors (being written)."""
__all__ = []
