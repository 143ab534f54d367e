"""Every string the browser pages show is translatable: each `t("...")` in web/src has its Spanish entry in
web/src/locale/es.json, and es.json holds no entry that no page uses any more."""

from __future__ import annotations

import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web" / "src"
CALL = re.compile(r"""\bt\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`$\\]*)`)""")
ROLES = ("agent", "supervisor", "admin")  # shown through t(me.role)


def _used() -> set[str]:
    found: set[str] = set(ROLES)
    for path in WEB.rglob("*.ts*"):
        if path.name.endswith(".d.ts"):
            continue
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            text = next(g for g in match.groups() if g is not None)
            found.add(json.loads(f'"{text}"') if match.group(1) is not None else text)
    return found


def test_every_string_has_its_spanish() -> None:
    spanish = json.loads((WEB / "locale" / "es.json").read_text(encoding="utf-8"))
    missing = sorted(_used() - set(spanish))
    assert not missing, f"add to web/src/locale/es.json: {missing}"


def test_no_stale_spanish() -> None:
    spanish = json.loads((WEB / "locale" / "es.json").read_text(encoding="utf-8"))
    stale = sorted(set(spanish) - _used())
    assert not stale, f"no page uses these any more: {stale}"


def test_placeholders_match() -> None:
    spanish: dict[str, str] = json.loads((WEB / "locale" / "es.json").read_text(encoding="utf-8"))
    for english, translated in spanish.items():
        assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", translated)), english
