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


# Roughly how long the slowest tests take (seconds, one worker of `-n 2`; a test id or a test
# function's), so that they start first: pytest-xdist hands tests out in collection order (and
# with `--dist worksteal`, pyproject's, an idle worker steals from the end of the other's
# queue), and a long test run last leaves the other worker idle at the end of the run. This
# only orders the tests; which tests run, and how, stays the same.
EXPECTED_SECONDS = {
    "tests/behaviour/test_behaviour.py::test_migrated_suite_passes_its_own_tests": 20,
    "tests/test_cli_inputs.py::test_as_many_terms_as_python_compiles_are_migrated": 15,
    "tests/equivalence/test_equivalence.py::test_migration_succeeds_on_postgresql[async]": 16,
    "tests/equivalence/test_equivalence.py::test_migration_succeeds[async]": 15,
    "tests/equivalence/test_equivalence.py::test_migration_succeeds_on_postgresql[sync]": 10,
    "tests/equivalence/test_equivalence.py::test_migration_succeeds[sync]": 6,
    "tests/equivalence/test_equivalence.py::test_legacy_program_runs_on_postgresql": 4,
    "tests/equivalence/test_equivalence.py::test_legacy_program_runs": 3,
    "tests/test_sample_project_sync.py::test_sample_project_suite_passes_sync_on_postgresql": 14,
    "tests/test_sample_project_sync.py::test_sample_project_suite_passes_sync": 10,
    "tests/test_fuzz.py::test_a_short_fuzz_run_finds_nothing": 9,
    "tests/test_plan_skips.py::test_generated_tree_and_sample_project_same": 5,
    "tests/e2e/test_test_client_lifespan.py::test_conftest_clients_find_their_tables": 6,
    "tests/e2e/test_session_registry.py::"
    "test_registry_sessions_stay_sync_and_the_suite_still_passes": 4,
    "tests/e2e/test_alembic_env.py::"
    "test_alembic_still_upgrades_after_the_app_moved_to_an_async_driver": 3.5,
    "tests/test_cli_inputs.py::test_a_reader_gone_early_exits_141_without_a_traceback": 4,
    "tests/e2e/test_migrated_mocks.py::test_migrated_tests_fail_only_where_marked": 2.5,
    "tests/behaviour/test_behaviour.py::test_migrated_program_behaves_the_same_on_postgresql": 3.5,
    "tests/behaviour/test_behaviour.py::test_migrated_program_behaves_the_same": 3,
    "tests/behaviour/test_behaviour.py::test_program_migrated_with_target_sync_behaves_the_same":
        1.3,
    "tests/test_cli_inputs.py::test_workers_end_when_the_main_process_is_killed": 1.5,
    "tests/test_cli_inputs.py::test_deeply_nested_code_python_compiles_is_migrated": 1,
}
# Modules whose tests share module-scoped fixtures stay together (moved as one block, of the
# summed time), so that no fixture of theirs is built twice by one worker.
MODULE_BLOCKS = {
    "tests/e2e/test_sample_project.py": 35,
    "tests/test_lint.py": 35,
    "tests/behaviour/test_lint_behaviour.py": 25,
    "tests/unit/test_corpus_runner.py": 0,
}


def _expected_seconds(item) -> float:
    return EXPECTED_SECONDS.get(item.nodeid, EXPECTED_SECONDS.get(item.nodeid.split("[")[0],
                                                                   0.0))


def _longest_first(items: list) -> list:
    """The items, blocks expected to take longest first (stable: the others keep their
    order)."""
    blocks: dict[str, list] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        blocks.setdefault(module if module in MODULE_BLOCKS else item.nodeid, []).append(item)

    def seconds(key: str) -> float:
        return MODULE_BLOCKS.get(key, _expected_seconds(blocks[key][0]))

    return [item for key in sorted(blocks, key=lambda k: -seconds(k)) for item in blocks[key]]


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.nodeid in SLOW_ELSEWHERE:
            item.add_marker(pytest.mark.slow)
    items[:] = _longest_first(items)

# The throwaway PostgreSQL server (fixture `postgres`) for the tests that run on it too.
pytest_plugins = ["tests.postgres"]


@pytest.fixture(scope="session")
def first_runs(tmp_path_factory: pytest.TempPathFactory):
    """Each fixture case's first run, made once for all xdist workers (tests/test_fixtures.py)."""
    from tests.equivalence.build_once import shared_directory
    from tests.test_fixtures import FirstRuns

    return FirstRuns(shared_directory(tmp_path_factory, "fixture-first-runs"))
