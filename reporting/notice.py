"""What `message.eml` carries: a link to the report in the submitters' portal, the report
files attached, or both.

Reports travel by the portal, not by e-mail (confidentiality): by default the e-mail only says
the report is ready, with the counts and a link to `{portal_url}/submissions/{submission_id}`,
where the focal point signs in and reads it in their language. The data team may switch the
attachments on (`attach_report`). `glotip validate` loads nothing, so the portal has nothing to
show: its e-mail has no link and attaches the report, as the data team sends it by hand
(`BY_HAND`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

DEFAULT_PORTAL_URL = "http://127.0.0.1:8765"  # `glotip portal` on this machine


@dataclass(frozen=True)
class Notice:
    portal_url: str | None = DEFAULT_PORTAL_URL  # None: no link (nothing in the portal)
    attach_report: bool = False

    def __post_init__(self) -> None:
        if self.portal_url is not None:
            _check_portal_url(self.portal_url)
        if self.portal_url is None and not self.attach_report:
            raise ValueError("an e-mail without a portal link must attach the report")

    def link(self, submission_id: str) -> str | None:
        """The submission's page in the portal; the id quoted whole (no `/`, `?` or `#` of it
        can change which page the link opens)."""
        if self.portal_url is None:
            return None
        return f"{self.portal_url.rstrip('/')}/submissions/{quote(str(submission_id), safe='')}"


BY_HAND = Notice(portal_url=None, attach_report=True)  # `glotip validate`: nothing in the portal


def _check_portal_url(url: str) -> None:
    """An http(s) address with a host, on one line: it is written into every e-mail."""
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or any(character.isspace() or not character.isprintable() for character in url)):
        raise ValueError(f"portal_url: {url!r} is not an http(s) address of the portal "
                         "(such as https://glotip.unodc.org)")
