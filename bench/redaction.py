"""Keep secrets out of everything we record: results, reports, progress lines and errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from bench.models import BuildOutcome, ImageFacts

_SECRET_KEY = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
# scheme://userinfo@ : userinfo cannot contain '/', '?', '#' or whitespace.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]+@")
# Only secret keys match, so the scan also finds `api_key=` inside another setting's value.
_SECRET_SETTING = re.compile(
    r"(?<![A-Za-z0-9_])(?P<key>[A-Za-z0-9_-]*?(?:TOKEN|SECRET|PASSWORD|KEY)[A-Za-z0-9_-]*)="
    r"(?:\"[^\"]*\"|'[^']*'|[^\s,;&\"']*)",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    """True for names like GITHUB_TOKEN, db_password, AWS_SECRET_ACCESS_KEY, api-key."""
    return bool(_SECRET_KEY.search(key))


def redact_value(key: str, value: str) -> str:
    """The value to record for a KEY=VALUE setting: *** for secret keys, URLs without creds."""
    return "***" if is_secret_key(key) else redact(value)


def redact(text: str) -> str:
    """Hide URL credentials (`https://***@host`) and values of *TOKEN*/*SECRET*/... settings."""
    text = _SECRET_SETTING.sub(r"\g<key>=***", text)
    return _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)


class Scrubber:
    """Replaces the values of secret build arguments and URL credentials with ***."""

    def __init__(self, build_args: Mapping[str, str]) -> None:
        secrets = {value for key, value in build_args.items() if is_secret_key(key) and value}
        for value in build_args.values():
            credentials = urlsplit(value).netloc.rpartition("@")[0] if "://" in value else ""
            if credentials:
                secrets.add(credentials)
                secrets.update(part for part in credentials.split(":") if len(part) >= 4)
        # Longest first, so a secret that contains another is replaced whole.
        ordered = sorted(secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, value: str) -> str:
        if self._pattern is not None:
            value = self._pattern.sub("***", value)
        return redact(value)

    def optional(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)

    def outcome(self, outcome: BuildOutcome) -> BuildOutcome:
        return replace(
            outcome,
            error=self.optional(outcome.error),
            log_tail=tuple(self.text(line) for line in outcome.log_tail),
            steps=tuple(replace(s, instruction=self.text(s.instruction)) for s in outcome.steps),
        )

    def facts(self, facts: ImageFacts) -> ImageFacts:
        # History records RUN steps as `|2 NAME=value ... /bin/sh -c ...`: build args included.
        layers = tuple(
            replace(
                layer,
                instruction=self.text(layer.instruction),
                created_by=self.text(layer.created_by),
            )
            for layer in facts.layers
        )
        return replace(facts, layers=layers)
