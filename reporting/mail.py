"""`message.eml`: a ready e-mail to the submission's contact, in their language.

Built with the standard library's `email` package. By default a notice (reporting/notice.py):
the file received, the status and the counts of errors and warnings (no finding, no value), and
the link to the report in the submitters' portal, where the focal point signs in; reports are not
sent by e-mail. With `attach_report` (the data team's choice) and for `glotip validate` (no
link: nothing is in the portal), the top findings and the report files attached, as before.
Nothing is sent unless asked: `send_message` delivers a written .eml through a configured SMTP
server (`glotip send-report`, or `glotip validate --send`).
"""

from __future__ import annotations

import smtplib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path

from reporting.notice import Notice
from schemas import i18n, messages
from schemas.countries import country_name
from schemas.findings import Finding

DEFAULT_SENDER = "GLOTIP <glotip@unodc.org>"
TOP_FINDINGS = 10
ATTACHMENTS = (("report.html", "text", "html"), ("findings.csv", "text", "csv"),
               ("annotated.xlsx", "application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


def build_message(data: dict, findings: list[Finding], report_dir: Path, *, to: str,
                  notice: Notice, sender: str = DEFAULT_SENDER) -> EmailMessage:
    language = data.get("language") or i18n.DEFAULT_LANGUAGE
    status = i18n.ui(f"status.{data['status']}", language) if i18n.known(f"ui.status.{data['status']}") else data["status"]
    years = i18n.format_years(data.get("year_from"), data.get("year_to"))
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = _one_line(to)
    message["Subject"] = _one_line(i18n.ui("email_subject", language, file_name=data["file_name"], status=status))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="glotip.unodc.org")
    message["Content-Language"] = language
    link = notice.link(data["submission_id"])
    message.set_content(_body(data, findings, report_dir, language, status, years, link,
                              notice.attach_report), charset="utf-8")
    if not notice.attach_report:
        return message
    for name, maintype, subtype in ATTACHMENTS:
        path = report_dir / name
        if path.exists():
            message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=name)
    return message


def _body(data: dict, findings: list[Finding], report_dir: Path, language: str, status: str,
          years: str, link: str | None, attached: bool) -> str:
    def t(key: str, count: float | None = None, **values) -> str:
        return i18n.ui(key, language, count=count, **values)

    errors, warnings = data["stats"]["errors"], data["stats"]["warnings"]
    country = country_name(data["country"], language) if data.get("country") else ""
    lines = [t("email_greeting"), "",
             t("email_received", file_name=data["file_name"], country=country, years=years),
             "", t("email_result", status=status, errors=t("error_count", count=errors, n=errors),
                   warnings=t("warning_count", count=warnings, n=warnings))]
    if attached:
        lines += _findings_and_attachments(findings, report_dir, language, t)
    if link:  # on a line of its own: no mail client takes the next word into the address
        lines += ["", t("email_report_in_portal" if attached else "email_report_ready"), link]
        if not attached:
            lines.append(t("email_sign_in"))
    lines.append("")
    if errors:
        lines.append(t("email_resubmit"))
    elif warnings:
        lines.append(t("email_confirm"))
    else:
        lines.append(t("email_thanks"))
    lines += ["", t("email_signature")]
    return "\n".join(lines) + "\n"


def _findings_and_attachments(findings: list[Finding], report_dir: Path, language: str, t) -> list[str]:
    """The top findings and the files attached: only when the report travels with the e-mail.
    `t`: the body's own UI strings in `language`."""
    lines = []
    ordered = sorted(findings, key=lambda f: f.severity != "error")
    if ordered:
        lines += ["", t("email_top_findings")]
        for finding in ordered[:TOP_FINDINGS]:
            where = (f"- {messages.render_location(finding.location, language)} "
                     f"{i18n.parenthesised(messages.severity(finding.severity, language), language)}")
            lines.append(i18n.label_value(where, messages.render_message(finding, language, marked=False), language))
        if len(ordered) > TOP_FINDINGS:
            more = len(ordered) - TOP_FINDINGS
            lines.append(t("email_more", count=more, n=more))
    lines += ["", t("email_attached")]
    if (report_dir / "annotated.xlsx").exists():
        lines.append(t("email_annotated"))
    return lines


def _one_line(text: str) -> str:
    """Header values never carry a line break (header injection)."""
    return " ".join(str(text).split())


def read_message(path: str | Path) -> EmailMessage:
    with Path(path).open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


def send_message(path: str | Path, host: str, port: int = 25, *, starttls: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 30) -> list[str]:
    """Send a written .eml through an SMTP server; returns its recipients."""
    message = read_message(path)
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        if starttls:
            smtp.starttls()
        if username:
            smtp.login(username, password or "")
        smtp.send_message(message)
    return [address.strip() for address in str(message["To"]).split(",")]
