import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Fixture inputs/outputs are data, not tests (some are named test_*.py on purpose).
collect_ignore_glob = ["fixtures/*"]
