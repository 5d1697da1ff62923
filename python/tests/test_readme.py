"""The Python examples of the repository README's "From Python" section and
of the package's page run as written (in order, sharing their names, from
the repository root). The README's other Python blocks show the protocol
clients, which need a running server."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "python" / "README.md"]


def blocks(page) -> list[str]:
    text = page.read_text(encoding="utf-8")
    if page == ROOT / "README.md":
        text = text.split("\n## From Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_examples_run(page, monkeypatch):
    examples = blocks(page)
    assert examples, f"{page} has no Python example"
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for code in examples:
        exec(compile(code, str(page), "exec"), namespace)
