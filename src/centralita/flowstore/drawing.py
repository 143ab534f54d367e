"""A flow drawn as SVG by Graphviz's `dot` (Debian package graphviz), for `flow graph` and the admin API.
The graph itself is pure (`flows.graph.to_dot`); this runs the program, with a timeout."""

from __future__ import annotations

import shutil
import subprocess

from centralita.core.i18n import _

__all__ = ["DOT_TIMEOUT_S", "DrawingError", "render_svg"]

DOT_TIMEOUT_S = 60


class DrawingError(Exception):
    """Graphviz is missing, too slow or failed; `.message` says which, in the current language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def render_svg(dot_text: str, timeout_s: float = DOT_TIMEOUT_S) -> bytes:
    program = shutil.which("dot")
    if program is None:
        raise DrawingError(
            _(
                "Graphviz's dot program is needed to draw an SVG: install the Debian package graphviz "
                "(apt-get install graphviz), or write DOT text with --format dot"
            )
        )
    try:
        done = subprocess.run(
            [program, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise DrawingError(_("dot took more than {seconds} seconds", seconds=timeout_s)) from None
    except OSError as exc:
        raise DrawingError(f"{program}: {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise DrawingError(f"{_('dot failed (exit code {code})', code=done.returncode)}: {detail}")
    return done.stdout
