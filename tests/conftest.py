import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Fixture inputs/outputs are data, not tests (some are named test_*.py on purpose).
collect_ignore_glob = ["fixtures/*"]

# The index cache goes to the user's cache folder: keep the test runs' out of it.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="sqla-asyncify-test-cache-")
