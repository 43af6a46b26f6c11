"""Write one benchmark's section of docs/performance.md, leaving the other sections alone."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["section_head", "update_section"]


def update_section(doc: Path, title: str, section: str) -> None:
    """Replace the section headed ``title`` (``## …``) in ``doc`` with ``section``, or add it."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n\n"
    start = text.find(title + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(title))
        text = text[:start] + (section if end == -1 else section.rstrip("\n") + "\n\n" + text[end + 1 :])
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def section_head(title: str, command: str) -> list[str]:
    """The opening lines every section shares: its title, when and where, and the command."""
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return [
        title,
        "",
        f"Measured {today} on {platform.machine()} with 2 cores, Python {platform.python_version()}.",
        "",
        "```",
        command,
        "```",
        "",
    ]
