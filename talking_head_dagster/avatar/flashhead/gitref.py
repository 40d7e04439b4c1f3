"""The commit a git checkout is at, read from its ``.git`` files (no git binary needed).

Handles a detached HEAD, a branch whose ref is a loose file or only in ``packed-refs``, and a
``.git`` *file* (``gitdir: ...``) as worktrees and submodules have, with their ``commondir``.
"""

import re
from pathlib import Path

_SHA = re.compile(r"[0-9a-f]{40}")


class CommitUnknown(Exception):
    """The folder is not a git checkout, or its HEAD cannot be resolved; the message says which."""


def checkout_commit(root: Path) -> str:
    """The full commit hash ``root``'s HEAD points at."""
    git_dir = _git_dir(root)
    head = _read(git_dir / "HEAD").strip()
    if _SHA.fullmatch(head):
        return head
    if not head.startswith("ref:"):
        raise CommitUnknown(f"{git_dir / 'HEAD'} holds neither a commit nor a ref: {head[:80]!r}")
    ref = head.removeprefix("ref:").strip()
    for base in dict.fromkeys([git_dir, _common_dir(git_dir)]):
        commit = _loose_ref(base, ref) or _packed_ref(base, ref)
        if commit:
            return commit
    raise CommitUnknown(f"{root}: HEAD names {ref}, which has no commit (an empty clone?)")


def _git_dir(root: Path) -> Path:
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        pointer = _read(dot_git).strip()
        if pointer.startswith("gitdir:"):
            target = Path(pointer.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else (root / target).resolve()
        raise CommitUnknown(f"{dot_git} is a file but not a 'gitdir:' pointer")
    raise CommitUnknown(f"{root} is not a git checkout (no .git): clone it with git so its commit can be checked")


def _common_dir(git_dir: Path) -> Path:
    """A worktree's git dir keeps its branches in the main repository's (named by ``commondir``)."""
    pointer = git_dir / "commondir"
    if not pointer.is_file():
        return git_dir
    target = Path(_read(pointer).strip())
    return target if target.is_absolute() else (git_dir / target).resolve()


def _loose_ref(git_dir: Path, ref: str) -> str | None:
    path = git_dir / ref
    if path.is_file():
        value = _read(path).strip()
        if _SHA.fullmatch(value):
            return value
    return None


def _packed_ref(git_dir: Path, ref: str) -> str | None:
    packed = git_dir / "packed-refs"
    if not packed.is_file():
        return None
    for line in _read(packed).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref and _SHA.fullmatch(parts[0]):
            return parts[0]
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CommitUnknown(f"cannot read {path}: {exc}") from exc
