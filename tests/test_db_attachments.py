"""The content-addressed attachment store on a real filesystem: layout, no overwrite, verification."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketing.attachments import AttachmentError, FileAttachmentStore, guess_media_type


def test_put_bytes_layout_and_read(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path / "att")
    data = "Biên bản xử lý".encode()
    blob = store.put_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    assert blob.sha256 == digest and blob.size == len(data)
    path = tmp_path / "att" / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == data
    assert not (stat.S_IMODE(path.stat().st_mode) & 0o222), "stored files are read-only"
    assert store.read(digest) == data
    assert store.exists(digest)
    assert [p.name for p in path.parent.iterdir()] == [digest], "no temporary files left behind"


def test_put_file_and_same_content_twice(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    src = tmp_path / "evidence.jpg"
    src.write_bytes(b"\xff\xd8" + os.urandom(3000))
    a = store.put_file(src)
    mtime = store.path_for(a.sha256).stat().st_mtime_ns
    b = store.put_file(src)
    assert a == b
    assert store.path_for(a.sha256).stat().st_mtime_ns == mtime, "existing file is not rewritten"


def test_corruption_is_detected(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    blob = store.put_bytes(b"original")
    path = store.path_for(blob.sha256)
    path.chmod(0o640)
    path.write_bytes(b"tampered")
    with pytest.raises(AttachmentError, match="corrupted"):
        store.read(blob.sha256)


def test_missing_and_malformed(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    with pytest.raises(AttachmentError, match="missing"):
        store.read("0" * 64)
    with pytest.raises(AttachmentError, match="not a sha256"):
        store.read("../../etc/passwd")
    with pytest.raises(AttachmentError, match="not found"):
        store.put_file(tmp_path / "nope.pdf")


def test_concurrent_writers_of_same_content(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    data = os.urandom(200_000)
    with ThreadPoolExecutor(8) as pool:
        blobs = list(pool.map(store.put_bytes, [data] * 16))
    assert len(set(blobs)) == 1
    assert store.read(blobs[0].sha256) == data


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=512), max_size=8))
def test_every_stored_blob_reads_back(tmp_path_factory: pytest.TempPathFactory, chunks: list[bytes]) -> None:
    store = FileAttachmentStore(tmp_path_factory.mktemp("att"))
    blobs = [store.put_bytes(c) for c in chunks]
    for c, b in zip(chunks, blobs, strict=True):
        assert store.read(b.sha256) == c


def test_media_types() -> None:
    assert guess_media_type("ghi_am.wav") in {"audio/wav", "audio/x-wav"}
    assert guess_media_type("anh.jpg") == "image/jpeg"
    assert guess_media_type("khong-ro") == "application/octet-stream"
