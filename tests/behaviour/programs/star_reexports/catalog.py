"""Gathers the records module's API under one name, as package __init__ files do."""
from records import *

__all__ = ("Base", "Entry", "Ledger", "total_of")
