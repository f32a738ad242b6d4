"""Check that the .deb's Depends cover every system library the bundle links against.

The bundle carries Qt and the Python runtime but leaves the desktop stack (X11/xcb,
xkbcommon, fontconfig, D-Bus, GLib, EGL, Wayland) to the user's system. This reads the direct
dependencies (DT_NEEDED, ``objdump -p``) of every ELF file in the bundle, resolves them with
``ldd``, maps each library found outside the bundle to its Debian package with
``dpkg -S`` and fails, naming them, when a package is neither declared nor part of every
system (glibc). A library that cannot be found at all on the build machine
also fails: install it (scripts/lib.sh QT_RUNTIME_PACKAGES) so its package can be checked.

    python3 packaging/check_depends.py dist/kube9-desktop "libc6 (>= 2.36), libegl1, ..."
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# Part of glibc itself, which ``libc6 (>= 2.36)`` in Depends covers.
ALWAYS_THERE = {"libc6", "libc-bin"}
LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(not found|\S+)")


def elf_files(bundle: Path) -> list[Path]:
    found = []
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as fh:
            if fh.read(4) == b"\x7fELF":
                found.append(path)
    return found


def needed_sonames(elf: Path) -> list[str]:
    """The DT_NEEDED entries of ``elf`` (its direct dependencies), read with objdump."""
    out = subprocess.run(["objdump", "-p", str(elf)], capture_output=True, text=True).stdout
    return [line.split()[1] for line in out.splitlines() if line.strip().startswith("NEEDED")]


def system_libraries(bundle: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """{system library path: bundle files needing it directly}, {missing soname: files}."""
    internal = bundle / "_internal"
    env = {
        **os.environ,
        "LD_LIBRARY_PATH": os.pathsep.join(
            str(p) for p in (internal, internal / "PySide6" / "Qt" / "lib") if p.is_dir()
        ),
    }
    used: dict[str, set[str]] = {}
    missing: dict[str, set[str]] = {}
    root = str(bundle.resolve())
    for elf in elf_files(bundle):
        direct = set(needed_sonames(elf))
        out = subprocess.run(["ldd", str(elf)], env=env, capture_output=True, text=True).stdout
        rel = str(elf.relative_to(bundle))
        for line in out.splitlines():
            m = LDD_LINE.match(line)
            if not m or m.group(1) not in direct:
                continue
            soname, where = m.groups()
            if where == "not found":
                missing.setdefault(soname, set()).add(rel)
            elif not os.path.realpath(where).startswith(root):
                used.setdefault(where, set()).add(rel)
    return used, missing


def package_of(path: str) -> str | None:
    for candidate in dict.fromkeys((path, os.path.realpath(path))):
        done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].split(",")[0].strip()
        # /lib is a symlink to /usr/lib on merged-/usr systems; dpkg knows one of the two.
        alt = (
            candidate.replace("/usr/lib/", "/lib/", 1)
            if candidate.startswith("/usr/lib/")
            else ("/usr" + candidate if candidate.startswith("/lib/") else None)
        )
        if alt:
            done = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True)
            if done.returncode == 0:
                return done.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def declared(depends: str) -> set[str]:
    names = set()
    for item in depends.split(","):
        for alternative in item.split("|"):
            name = alternative.strip().split(" ", 1)[0].split("(", 1)[0].strip()
            if name:
                names.add(name)
    return names


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bundle, depends = Path(argv[0]), declared(argv[1])
    used, missing = system_libraries(bundle)
    needed: dict[str, set[str]] = {}
    unknown = []
    for lib, users in sorted(used.items()):
        package = package_of(lib)
        if package is None:
            unknown.append(f"{lib} (used by {', '.join(sorted(users)[:2])})")
        else:
            needed.setdefault(package, set()).update(users)
    problems = []
    for soname, users in sorted(missing.items()):
        problems.append(
            f"{soname} is not installed on this machine (needed by "
            f"{', '.join(sorted(users)[:3])}); install it so its package can be checked"
        )
    for package, users in sorted(needed.items()):
        if package not in depends and package not in ALWAYS_THERE:
            problems.append(
                f"{package} is needed (by {', '.join(sorted(users)[:3])}) but not in Depends"
            )
    for item in unknown:
        problems.append(f"no Debian package owns {item}")
    print(
        "system packages the bundle links against: "
        + ", ".join(sorted(p for p in needed if p not in ALWAYS_THERE))
    )
    if problems:
        print("Depends check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print("Depends check ok: every system library the bundle needs is declared or always there")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
