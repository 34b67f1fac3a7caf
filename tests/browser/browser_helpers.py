"""Shared state of the browser tests: the URLs the browser asked for and the screenshots taken."""

from __future__ import annotations

from pathlib import Path

SHOTS: list[Path] = []
#: every URL the browser asked for (the explorer must need nothing but itself)
REQUESTS: list[str] = []


def screenshot(page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.append(path)
    print(f"screenshot: {path}")
    return path
