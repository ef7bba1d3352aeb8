"""Imported at start-up by the corpus scripts the runner runs (this folder is first on their
PYTHONPATH): SQLAlchemy's `echo=True` log goes to stderr, so stdout holds what the program
itself prints (the SQL of a migrated query differs in form, and the log carries times)."""

import logging
import sys

try:
    import sqlalchemy.log
except ImportError:  # a script of a project that does not need SQLAlchemy at all
    pass
else:
    def _log_to_stderr(logger: logging.Logger) -> None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)

    sqlalchemy.log._add_default_handler = _log_to_stderr
