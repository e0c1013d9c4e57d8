"""The suite stops at configuration, naming the install command, when the test extra (the
Keras reference and the optional readers the tests use) is missing."""
import pytest

from tests import conftest


def test_a_missing_test_extra_stops_the_run_with_the_install_command(monkeypatch):
    monkeypatch.setitem(conftest.TEST_EXTRA, "no_such_module_jk", "no-such-package")
    with pytest.raises(pytest.UsageError, match=r"missing: no-such-package.*"
                                                r"pip install -e '\.\[test\]'"):
        conftest.pytest_configure(None)


def test_the_list_is_pyprojects_test_extra():
    import os
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "pyproject.toml"), encoding="utf-8") as f:
        extra = re.search(r"^test = \[(.*?)\]", f.read(), re.M | re.S).group(1)
    packages = {re.split(r"[<>=\[ ]", name.strip().strip('"'))[0]
                for name in extra.split(",") if name.strip()}
    assert packages - {"pytest"} == set(conftest.TEST_EXTRA.values())
