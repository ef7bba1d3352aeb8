"""Write the missing `<case>.expected.py` of single-module fixtures from the tool's output.

For bootstrapping new cases only: read every generated file before committing it — an
expected output that enshrines a bug is worse than none. Existing files are never touched
unless --force is given.

    python tests/update_fixtures.py [--force] [CASE_GLOB]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codemods import Config, migrate_source  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def main(argv: list[str]) -> int:
    force = "--force" in argv
    patterns = [a for a in argv if not a.startswith("--")] or ["*"]
    for pattern in patterns:
        for case in sorted(FIXTURES.rglob(f"{pattern}.input.py")):
            expected = case.with_name(case.name.replace(".input.py", ".expected.py"))
            if expected.exists() and not force:
                continue
            config = Config(target="sync" if "target-sync" in case.parts else "async",
                            strict_loading="strict-loading" in case.parts,
                            python=(3, 9) if "python3.9" in case.parts else (3, 10))
            result = migrate_source(case.read_text(encoding="utf-8"),
                                    case.name.replace(".input.py", ".py"), config)
            if result.error:
                print(f"{case}: {result.error}", file=sys.stderr)
                continue
            expected.write_text(result.new_source, encoding="utf-8")
            print(f"wrote {expected.relative_to(FIXTURES)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
