"""Image history text, as the engine records it, turned back into Dockerfile instructions."""

from __future__ import annotations


def instruction(created_by: str) -> str:
    """`/bin/sh -c #(nop)  CMD [...]` -> `CMD [...]`; `/bin/sh -c pip ...` -> `RUN pip ...`."""
    text = created_by.strip()
    if "#(nop)" in text:
        return text.split("#(nop)", 1)[1].strip()
    if text.startswith("/bin/sh -c "):
        return "RUN " + text[len("/bin/sh -c ") :]
    if text.startswith("|"):  # RUN with build args: `|2 ARG1=.. ARG2=.. /bin/sh -c ...`
        return "RUN " + text.split("/bin/sh -c ", 1)[-1]
    return text
