import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Fixture inputs/outputs are data, not tests (some are named test_*.py on purpose); so are
# the behaviour suites, whose tests test_behaviour.py runs in their own folders.
collect_ignore_glob = ["fixtures/*", "behaviour/suites/*"]

# The index cache goes to the user's cache folder: keep the test runs' out of it.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="sqla-asyncify-test-cache-")


# Slow tests in files this conftest marks for want of a marker in the file itself (the file
# belongs to another area): node id -> why it is slow.
SLOW_ELSEWHERE = {
    "tests/test_sample_project_sync.py::test_sample_project_suite_passes_sync":
        "runs the sample project's own test suite in a subprocess (~10 s)",
    "tests/test_sample_project_sync.py::test_sample_project_suite_passes_sync_on_postgresql":
        "runs the sample project's own test suite on PostgreSQL in a subprocess (~15 s)",
}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.nodeid in SLOW_ELSEWHERE:
            item.add_marker(pytest.mark.slow)

# The throwaway PostgreSQL server (fixture `postgres`) for the tests that run on it too.
pytest_plugins = ["tests.postgres"]
