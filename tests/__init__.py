"""The harness's tests.

- ``e2e/``: the ``harness`` CLI and whole evaluations across packages (run, resume, concurrency, sweeps, parity
  with lm-eval, the browser view of a built site).
- ``unit/<package>/``: one package of ``harness/`` (``unit/store/`` tests ``harness/store``, and so on), through its
  functions or its own command on small inputs.
- ``conftest.py`` holds the shared fixtures, ``helpers.py`` the shared functions (``from tests.helpers import
  run_cli``), ``fixtures/`` the data files (``tests.helpers.FIXTURES``).

Every test folder is a package (give a new one an ``__init__.py``), so test files in different folders may share
a name.
"""
