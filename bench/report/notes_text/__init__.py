"""The notes' wording per language: one module each, one NotesText in it."""

from __future__ import annotations

from bench.report.notes_text import en, ko
from bench.report.notes_text.template import Language, NotesText

LANGUAGES: dict[Language, NotesText] = {"en": en.TEXT, "ko": ko.TEXT}
