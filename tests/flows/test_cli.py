"""`centralita flow check FILE... [--strict]`: every problem of every file on stderr, a summary per file,
exit 0 (valid), 1 (errors, or warnings with --strict) or 2 (a file that cannot be read)."""

from __future__ import annotations

from pathlib import Path

from tests.clirun import run_cli

BANK = Path(__file__).resolve().parent / "banco_entrada.yaml"
WARNED = "flowlang: 1\nid: f\nstart: a\nnodes:\n  a: {type: invoke, function: x.y, next: b}\n  b: {type: stop}\n"
BROKEN = "flowlang: 1\nid: f\nstart: a\nnodes:\n  a: {type: play, next: nowhere}\n"


def test_a_valid_flow(tmp_path: Path) -> None:
    code, out, err = run_cli(tmp_path, "flow", "check", str(BANK))
    assert (code, err) == (0, "")
    assert out == f"{BANK}: valid\n"


def test_errors_and_warnings_of_several_files(tmp_path: Path) -> None:
    (tmp_path / "warned.yaml").write_text(WARNED, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    warned, broken = str(tmp_path / "warned.yaml"), str(tmp_path / "broken.yaml")
    code, out, err = run_cli(tmp_path, "flow", "check", warned, broken)
    assert code == 1
    assert err.splitlines() == [
        f"{warned}:5:31: warning: node 'a': invoke without on.error: a failure falls through to next",
        f"{broken}:5:3: error: node 'a': missing field 'prompt'",
        f"{broken}:5:25: error: node 'a': no node is called 'nowhere'",
    ]
    assert out.splitlines() == [f"{warned}: 0 errors, 1 warning", f"{broken}: 2 errors, 0 warnings"]
    assert run_cli(tmp_path, "flow", "check", warned)[0] == 0  # warnings alone pass…
    assert run_cli(tmp_path, "flow", "check", "--strict", warned)[0] == 1  # …unless strict


def test_in_spanish(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    code, out, err = run_cli(tmp_path, "flow", "check", str(tmp_path / "broken.yaml"), lang="es")
    assert code == 1
    assert "error: node 'a': no hay ningún nodo llamado 'nowhere'" in err
    assert out.strip().endswith("2 errores, 0 avisos")


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    code, _out, err = run_cli(tmp_path, "flow", "check", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml" in err
    (tmp_path / "latin1.yaml").write_bytes("id: año\n".encode("latin-1"))
    code, _out, err = run_cli(tmp_path, "flow", "check", str(tmp_path / "latin1.yaml"))
    assert code == 2 and "latin1.yaml" in err
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 1_100_000 + "\n", encoding="utf-8")
    code, _out, err = run_cli(tmp_path, "flow", "check", str(big))
    assert code == 2 and "1048576" in err
