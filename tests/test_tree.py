"""Reading a repository on disk (``promoter.tree.DiskSource``): a file read once is kept and
read again only when it changed, and links are resolved with one listing per directory;
no shortcut lets a changed file, a link out or a FIFO through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promoter import tree
from promoter.safefs import UnsafeFile
from promoter.tree import DiskSource


@pytest.fixture
def keep_fresh_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep even files written a moment ago (tests write them just before reading)."""
    monkeypatch.setattr(tree, "_RACY_NS", 0)


def write(path: Path, text: str, mtime: int | None = None) -> None:
    """Write ``text`` to ``path``, its modification time set to ``mtime`` when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))


@pytest.mark.usefixtures("keep_fresh_files")
def test_a_file_is_read_once_while_it_does_not_change(tmp_path: Path) -> None:
    """The second read of an unchanged file is answered from memory (no open)."""
    write(tmp_path / "a.yaml", "a: 1\n")
    source = DiskSource(tmp_path)
    first = source.read_bytes("a.yaml")
    assert "a.yaml" in source._memo
    assert first is source.read_bytes("a.yaml")


@pytest.mark.usefixtures("keep_fresh_files")
def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    """A rewrite of the same size with another modification time is seen."""
    write(tmp_path / "a.yaml", "a: 1\n", mtime=1_000_000_000)
    source = DiskSource(tmp_path)
    assert source.read_bytes("a.yaml") == b"a: 1\n"
    write(tmp_path / "a.yaml", "a: 2\n", mtime=2_000_000_000)
    assert source.read_bytes("a.yaml") == b"a: 2\n"


@pytest.mark.usefixtures("keep_fresh_files")
def test_a_replaced_file_is_read_again(tmp_path: Path) -> None:
    """A file replaced by another (a rename over it, as editors and git do) is seen."""
    write(tmp_path / "a.yaml", "a: 1\n", mtime=1_000_000_000)
    source = DiskSource(tmp_path)
    source.read_bytes("a.yaml")
    write(tmp_path / "b.yaml", "a: 2\n", mtime=1_000_000_000)
    (tmp_path / "b.yaml").replace(tmp_path / "a.yaml")
    assert source.read_bytes("a.yaml") == b"a: 2\n"


@pytest.mark.usefixtures("keep_fresh_files")
def test_a_file_replaced_by_a_link_out_is_refused(tmp_path: Path) -> None:
    """A kept file that becomes a link leaving the repository is refused, not served."""
    root = tmp_path / "repo"
    write(root / "a.yaml", "a: 1\n")
    write(tmp_path / "secret", "s: 1\n")
    source = DiskSource(root)
    source.read_bytes("a.yaml")
    (root / "a.yaml").unlink()
    (root / "a.yaml").symlink_to(tmp_path / "secret")
    with pytest.raises(UnsafeFile):
        source.read_bytes("a.yaml")


@pytest.mark.usefixtures("keep_fresh_files")
def test_a_file_replaced_by_a_fifo_is_refused(tmp_path: Path) -> None:
    """A kept file that becomes a FIFO is refused without blocking."""
    write(tmp_path / "a.yaml", "a: 1\n")
    source = DiskSource(tmp_path)
    source.read_bytes("a.yaml")
    (tmp_path / "a.yaml").unlink()
    os.mkfifo(tmp_path / "a.yaml")
    with pytest.raises(UnsafeFile):
        source.read_bytes("a.yaml")


def test_a_file_written_a_moment_ago_is_not_kept(tmp_path: Path) -> None:
    """A file changed within the racy window is read from disk every time."""
    write(tmp_path / "a.yaml", "a: 1\n")
    source = DiskSource(tmp_path)
    source.read_bytes("a.yaml")
    assert "a.yaml" not in source._memo


@pytest.mark.usefixtures("keep_fresh_files")
def test_a_link_inside_is_read_through_and_not_kept(tmp_path: Path) -> None:
    """A link to a file inside the repository is followed, and read again every time."""
    write(tmp_path / "real.yaml", "a: 1\n")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    source = DiskSource(tmp_path)
    assert source.read_bytes("link.yaml") == b"a: 1\n"
    assert source.read_bytes("link.yaml") == b"a: 1\n"
    write(tmp_path / "real.yaml", "a: 22\n")
    assert source.read_bytes("link.yaml") == b"a: 22\n"


def test_real_relative_follows_directory_and_file_links(tmp_path: Path) -> None:
    """Paths without a link are themselves; a link in any segment is resolved; a link out
    leaves the path as written."""
    write(tmp_path / "repo/base/app.yaml", "a: 1\n")
    write(tmp_path / "outside/x.yaml", "a: 1\n")
    (tmp_path / "repo/stage").mkdir()
    (tmp_path / "repo/stage/linked").symlink_to("../base")
    (tmp_path / "repo/stage/app.yaml").symlink_to("../base/app.yaml")
    (tmp_path / "repo/out").symlink_to(tmp_path / "outside")
    source = DiskSource(tmp_path / "repo")
    expected = {
        "": "",
        "base": "base",
        "base/app.yaml": "base/app.yaml",
        "base/missing.yaml": "base/missing.yaml",
        "stage/linked": "base",
        "stage/linked/app.yaml": "base/app.yaml",
        "stage/app.yaml": "base/app.yaml",
        "out/x.yaml": "out/x.yaml",
    }
    assert expected == {rel: source.real_relative(rel) for rel in expected}
    inside = {rel: source.inside(rel) for rel in ("base/app.yaml", "stage/linked", "out/x.yaml")}
    assert inside == {"base/app.yaml": True, "stage/linked": True, "out/x.yaml": False}
