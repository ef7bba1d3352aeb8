"""sqla-asyncify's migration library: discover → index → plan → rewrite → results.

It never imports typer or rich; `cli/` is the face.
"""

from .config import Config
from .engine import migrate_source, migrate_sources
from .results import FileResult, Finding, Kind, Status
from .rules import RULES

__all__ = ["RULES", "Config", "FileResult", "Finding", "Kind", "Status", "migrate_source",
           "migrate_sources"]
