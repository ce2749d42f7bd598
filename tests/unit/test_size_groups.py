"""Which group a file belongs to, and how tables show the groups."""

from __future__ import annotations

import csv
import posixpath

import pytest

from bench.layers.size_groups import (
    canonical_name,
    classify,
    distribution_owners,
    shown_groups,
)
from bench.models import SizeGroup

SITE = "usr/local/lib/python3.11/site-packages"
OWNERS = distribution_owners(
    {
        f"{SITE}/scikit_learn-1.5.2.dist-info/RECORD": (
            "sklearn/__init__.py,sha256=a,10\n"
            "scikit_learn.libs/libgomp-a34b3233.so.1.0.0,sha256=b,20\n"
            '"sklearn/odd,name.py",sha256=c,30\n'
        ),
        f"{SITE}/uvicorn-0.30.6.dist-info/RECORD": "../../../bin/uvicorn,sha256=d,40\n",
    }
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("root/.cache/pip/http-v2/a/b", ("pip-cache", "pip cache")),
        ("home/app/.cache/pip/wheels/x.whl", ("pip-cache", "pip cache")),
        ("var/lib/apt/lists/deb.debian.org_dists", ("apt", "apt cache and lists")),
        ("var/cache/apt/archives/x.deb", ("apt", "apt cache and lists")),
        (f"{SITE}/sklearn/__pycache__/base.cpython-311.pyc", ("bytecode", "bytecode (.pyc)")),
        ("app/__pycache__/main.cpython-311.pyc", ("bytecode", "bytecode (.pyc)")),
        (f"{SITE}/sklearn/tests/test_base.py", ("tests-docs", "tests and docs in packages")),
        (f"{SITE}/numpy/doc/ufuncs.py", ("tests-docs", "tests and docs in packages")),
        (f"{SITE}/sklearn/__init__.py", ("package", "scikit-learn")),
        (f"{SITE}/sklearn/odd,name.py", ("package", "scikit-learn")),
        (f"{SITE}/scikit_learn.libs/libgomp-a34b3233.so.1.0.0", ("package", "scikit-learn")),
        ("usr/local/bin/uvicorn", ("package", "uvicorn")),
        # No RECORD: the top-level name.
        ("usr/lib/python3/dist-packages/pip/__init__.py", ("package", "pip")),
        ("opt/venv/lib/python3.11/site-packages/numpy.libs/x.so", ("package", "numpy")),
        ("opt/venv/lib/python3.11/site-packages/six.py", ("package", "six")),
        (f"{SITE}/PyYAML-6.0.dist-info/METADATA", ("package", "pyyaml")),
        ("usr/lib/python3.11/json/__init__.py", ("runtime", "Python runtime")),
        ("usr/local/bin/python3.11", ("runtime", "Python runtime")),
        ("usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", ("runtime", "Python runtime")),
        ("app/main.py", ("app", "the app")),
        ("application/main.py", ("other", "other files")),
        ("usr/bin/gcc", ("other", "other files")),
    ],
)
def test_classify(path: str, expected: tuple[str, str]) -> None:
    assert classify(path, OWNERS, "app")[:2] == expected


def test_no_app_directory() -> None:
    assert classify("app/main.py", OWNERS, "")[:2] == ("other", "other files")


def test_canonical_names() -> None:
    assert canonical_name("Scikit_Learn") == "scikit-learn"
    assert canonical_name("typing.extensions") == "typing-extensions"


def test_shown_groups_collapse_the_smaller_packages_in_place() -> None:
    groups = [
        SizeGroup("base", "base image", 100, 1),
        SizeGroup("package", "scipy", 50, 1),
        SizeGroup("package", "numpy", 40, 1),
        SizeGroup("package", "idna", 3, 1),
        SizeGroup("package", "h11", 2, 1),
        SizeGroup("bytecode", "bytecode (.pyc)", 30, 1),
    ]
    assert shown_groups(groups, 2) == [
        ("base image", 100, 1),
        ("scipy (package)", 50, 1),
        ("numpy (package)", 40, 1),
        ("2 more packages", 5, 2),
        ("bytecode (.pyc)", 30, 1),
    ]
    assert len(shown_groups(groups, 10)) == len(groups)


def test_record_rows_are_read_as_csv_and_normalised_paths() -> None:
    rows = [
        "pkg/__init__.py,sha256=a,1",
        '"pkg/odd,name.py",sha256=b,2',
        "../../../bin/tool,sha256=c,3",
        "./pkg/here.py,,",
        "/usr/share/pkg/absolute.txt,,",
        "pkg//twice.py,,",
        "pkg/.hidden,,",
        "pkg/sub/../up.py,,",
        "pkg/dir/,,",
        "",
        ",,",
    ]
    site = "usr/lib/python3/dist-packages"
    owners = distribution_owners({f"{site}/Pkg_Name-1.0.dist-info/RECORD": "\n".join(rows)})
    expected = {
        posixpath.normpath(posixpath.join(site, row[0])).lstrip("/"): "pkg-name"
        for row in csv.reader(rows)
        if row and row[0]
    }
    assert owners == expected
    assert owners[f"{site}/pkg/odd,name.py"] == "pkg-name"
    assert "usr/bin/tool" in owners and "usr/share/pkg/absolute.txt" in owners
