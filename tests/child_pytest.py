"""What every pytest run of a project under test (a subprocess of this suite) starts with."""

# no:cacheprovider: no .pytest_cache/ left in the project. no:hypothesispytest: none of those
# projects uses Hypothesis, whose pytest plugin (when installed) imports it as pytest starts,
# ~1 s of CPU a run, about a third of the sample project's whole suite.
PYTEST_OPTIONS = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
