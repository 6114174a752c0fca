#!/usr/bin/env python3
"""The include rules of docs/architecture.md, checked: every `#include "nucleo..."` of a header under
include/nucleo/ must name a folder its own folder may include. Exit 0 when every include keeps the
rules, 1 with one line per broken rule (file:line: what it includes and what its folder may include).

    cmake/check_includes.py [ROOT]     ROOT = the repository (default: this script's parent's parent)
"""
import pathlib
import re
import sys

# folder -> the folders its headers may include (a folder may always include itself).
# "." is include/nucleo/ itself (nucleo.hpp, version.hpp).
RULES = {
    ".": {"core", "detail", "layers", "heads", "losses", "optim", "data", "metrics", "genes", "io", "train"},
    "core": {"."},
    "detail": {"core", "losses"},  # losses: the Reduction enum, for the fused loss kernels
    "layers": {"core", "detail"},
    "heads": {"core", "detail", "layers"},
    "losses": {"core", "detail"},
    "optim": {"core", "detail"},
    "data": {"core", "detail"},
    "metrics": {"core", "detail"},
    "genes": {"core", "detail", "data", "losses", "metrics"},
    "io": {"core", "detail", "."},
    "train": {"core", "detail", "optim", "io", "metrics"},
    "testing": {"core", "detail", "layers", "heads", "losses", "optim"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]((?:nucleo|nucleo_apps)/[^">]+)[">]')


def folder_of(rel: pathlib.PurePosixPath) -> str:
    return rel.parts[0] if len(rel.parts) > 1 else "."


def check(root: pathlib.Path) -> list:
    lib = root / "include" / "nucleo"
    errors = []
    headers = sorted(lib.rglob("*.hpp"))
    if not headers:
        return [f"{lib}: no headers found"]
    for h in headers:
        rel = pathlib.PurePosixPath(h.relative_to(lib).as_posix())
        src = folder_of(rel)
        if src not in RULES:
            errors.append(f"{h}: folder '{src}' has no rule in cmake/check_includes.py (add one, and to docs/architecture.md)")
            continue
        allowed = RULES[src] | {src}
        for n, line in enumerate(h.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = pathlib.PurePosixPath(m.group(1))
            if target.parts[0] == "nucleo_apps":
                errors.append(f"{h}:{n}: includes {target}: the library never includes the apps tree")
                continue
            dst = folder_of(pathlib.PurePosixPath(*target.parts[1:]))
            if dst not in allowed:
                errors.append(f"{h}:{n}: includes {target}: '{src}' may include {', '.join(sorted(allowed))}")
    return errors


def main() -> int:
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent
    errors = check(root)
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) break the rules of docs/architecture.md")
        return 1
    print(f"include rules kept by every header under {root / 'include' / 'nucleo'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
