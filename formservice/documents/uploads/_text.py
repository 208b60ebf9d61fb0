"""The text of an upload, kept apart by where in the file it was found, and its scan."""

from __future__ import annotations

from collections.abc import Iterable

from formservice.domain.deidentify import describe, find_personal_data

#: Most characters kept of one kind of text (the pages, the comments …); more is refused,
#: since text that is not scanned could hold anything.
MAX_TEXT_CHARS = 2_000_000


class UploadRejected(Exception):
    """An upload that may not be stored; ``message`` is Swedish and fit for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Texts:
    """Text found in one file, by where it was found ("sidhuvud eller sidfot" …)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._parts: dict[str, list[str]] = {}
        self._sizes: dict[str, int] = {}

    def arrange(self, places: Iterable[str]) -> None:
        """Name the places in the order an error message lists them."""
        for where in places:
            self._parts.setdefault(where, [])

    def add(self, where: str, text: str) -> None:
        """Keep ``text`` under ``where``; refuse the file once one kind grows too large."""
        if not text:
            return
        size = self._sizes.get(where, 0) + len(text)
        if size > MAX_TEXT_CHARS:
            raise UploadRejected(
                f"Filen ”{self.name}” innehåller för mycket text för att kunna granskas. "
                "Dela upp den i mindre filer."
            )
        self._sizes[where] = size
        self._parts.setdefault(where, []).append(text)

    def text(self, where: str) -> str:
        return "".join(self._parts.get(where, ())).strip("\n")

    def check_deidentified(self, allowed_domains: Iterable[str]) -> None:
        """Refuse the file when any of its text holds personal data, saying where."""
        domains = list(allowed_domains)
        places: list[str] = []
        findings = []
        for where in self._parts:
            found = find_personal_data(self.text(where), allowed_domains=domains)
            if found:
                places.append(where)
                findings.extend(found)
        if findings:
            raise UploadRejected(
                f"Filen ”{self.name}” är inte avidentifierad ({_join_sv(places)}). "
                + describe(findings)
            )


def _join_sv(parts: list[str]) -> str:
    """Join ["a", "b", "c"] as "a, b och c"."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} och {parts[-1]}"
