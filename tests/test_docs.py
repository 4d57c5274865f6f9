"""The README stays short, and every relative link of the Markdown docs resolves."""

from __future__ import annotations

import re
from pathlib import Path

from tgnas import paths

README_MAX_LINES = 250

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def _markdown_files(root: Path) -> list[Path]:
    # docs/executed/: the notebooks rendered by the pipeline (their figure and notebook links too)
    return [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "docs").glob("executed/*.md"))]


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and code spans (their brackets are not links)."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    for title in _HEADING.findall(_FENCE.sub("", text)):
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title).replace("`", "").lower()
        out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def broken_links(md: Path) -> list[str]:
    """Relative links of ``md`` whose file (or heading anchor) does not exist."""
    bad = []
    for target in _LINK.findall(_prose(md.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue  # an absolute URL (http:, mailto:, ...)
        if target.startswith("/"):
            bad.append(f"{md.name}: {target} (absolute path; links must be relative)")
            continue
        file_part, _, anchor = target.partition("#")
        dest = (md.parent / file_part).resolve() if file_part else md
        if not dest.exists():
            bad.append(f"{md.name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor.lower() not in _anchors(dest.read_text(encoding="utf-8")):
            bad.append(f"{md.name}: {target} (no such heading)")
    return bad


def test_readme_fits_on_a_few_screens():
    n = len((paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert n <= README_MAX_LINES, f"README.md has {n} lines (at most {README_MAX_LINES}): move reference to docs/"


def test_docs_exist():
    files = _markdown_files(paths.PROJECT_ROOT)
    assert len(files) > 1 and all(f.exists() for f in files)


def test_relative_links_resolve():
    bad = [b for md in _markdown_files(paths.PROJECT_ROOT) for b in broken_links(md)]
    assert not bad, "broken Markdown links:\n" + "\n".join(bad)


def test_the_link_check_can_fail(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Some `code`: here\n")
    (tmp_path / "README.md").write_text(
        "[ok](docs/a.md) [ok](docs/a.md#some-code-here) [web](https://example.org/x.md) `[code](nope.md)`\n"
        "```\n[fenced](nope.md)\n```\n"
        "[missing](docs/b.md) [bad anchor](docs/a.md#nothing) [abs](/docs/a.md)\n")
    bad = broken_links(tmp_path / "README.md")
    assert len(bad) == 3 and "docs/b.md" in bad[0] and "#nothing" in bad[1] and "absolute" in bad[2]
    assert not broken_links(tmp_path / "docs" / "a.md")
