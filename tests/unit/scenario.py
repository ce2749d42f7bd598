"""A six-layer image whose dive numbers, groups and findings are worked out by hand."""

from __future__ import annotations

from tests.unit.savetar import LayerSpec

SITE = "usr/local/lib/python3.11/site-packages"
RECORD = (
    b"demo/__init__.py,sha256=x,3000\n"
    b"demo/__pycache__/__init__.cpython-311.pyc,,\n"
    b"../../../bin/demo-cli,sha256=y,64\n"
    b"demo-1.0.dist-info/RECORD,,\n"
)
R = len(RECORD)

LAYERS = (
    LayerSpec(
        (
            ("etc/", 0),
            ("etc/config", 1000),
            ("usr/", 0),
            ("usr/big", 5000),
            ("usr/keep", 300),
            ("usr/lib/", 0),
            ("usr/lib/a", 400),
            ("usr/lib/b", 600),
            ("bin/", 0),
            ("bin/busybox", 2000),
            ("bin/sh", 0, "busybox"),
        ),
        "/bin/sh -c #(nop) ADD file:0a1b in / ",
    ),
    LayerSpec(
        (("etc/", 0), ("etc/config", 1200), ("usr/", 0), ("usr/.wh.big", 0)),
        "/bin/sh -c rm /usr/big && echo changed > /etc/config",
    ),
    LayerSpec(
        (
            ("app/", 0),
            ("app/main.py", 100),
            ("root/", 0),
            ("root/.cache/", 0),
            ("root/.cache/pip/", 0),
            ("root/.cache/pip/wheel.whl", 20000),
            ("srv/", 0),
            ("srv/data.bin", 50),
            ("usr/", 0),
            ("usr/local/", 0),
            ("usr/local/bin/", 0),
            ("usr/local/bin/demo-cli", 64),
            ("usr/local/lib/", 0),
            ("usr/local/lib/python3.11/", 0),
            ("usr/local/lib/python3.11/os.py", 900),
            (f"{SITE}/", 0),
            (f"{SITE}/demo/", 0),
            (f"{SITE}/demo/__init__.py", 3000),
            (f"{SITE}/demo/__pycache__/", 0),
            (f"{SITE}/demo/__pycache__/__init__.cpython-311.pyc", 1500),
            (f"{SITE}/demo/tests/", 0),
            (f"{SITE}/demo/tests/test_demo.py", 700),
            (f"{SITE}/demo-1.0.dist-info/", 0),
            (f"{SITE}/demo-1.0.dist-info/RECORD", RECORD),
        ),
        "|2 PIP_NO_INDEX=1 A=b /bin/sh -c pip install demo",
    ),
    LayerSpec((("usr/", 0), ("usr/.wh.lib", 0)), "/bin/sh -c rm -rf /usr/lib"),
    LayerSpec(
        (("etc/", 0), ("etc/.wh..wh..opq", 0), ("etc/new", 50)),
        "/bin/sh -c rm -rf /etc && mkdir /etc && echo new > /etc/new",
    ),
    LayerSpec((("app/", 0), ("app/main.py", 120)), "/bin/sh -c #(nop) COPY file:9f in /app/ "),
)

# Worked out in tests/unit/test_layers.py's module docstring.
SIZE_BYTES = 36_984 + R
WASTED_BYTES = 2200 + 5000 + 220
EFFICIENCY = (31_664 + R) / (37_984 + R)
