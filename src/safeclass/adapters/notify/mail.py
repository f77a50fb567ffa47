"""Email over SMTP (aiosmtplib): invitation letters and outbox notices, plain text and HTML.

Bodies come from the small templates in `templates/`; every value put into the HTML part is
escaped. The invitation's token appears only inside its links, never in a header, so a mail
log or a subject line shown on a lock screen does not carry it.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from importlib import resources
from string import Template

import aiosmtplib

from safeclass.app.delivery import Letter, Notice
from safeclass.settings import Settings


@cache
def _template(name: str) -> Template:
    text = resources.files("safeclass.adapters.notify").joinpath("templates", name)
    return Template(text.read_text(encoding="utf-8"))


def _letter_values(letter: Letter, *, escape: bool) -> dict[str, str]:
    def esc(value: str) -> str:
        return html.escape(value, quote=True) if escape else value

    rules = letter.parent_expectations or ("Stay nearby while your child is in the session.",)
    if escape:
        listed = "\n".join(f"<li>{esc(r)}</li>" for r in rules)
    else:
        listed = "\n".join(f"- {r}" for r in rules)
    return {
        "shown_name": esc(letter.shown_name),
        "school_name": esc(letter.school_name),
        "title": esc(letter.session_title),
        "when": esc(letter.when),
        "link": esc(letter.link),
        "report_link": esc(letter.report_link),
        "parent_expectations": listed,
    }


def invitation_text(letter: Letter) -> str:
    """The invitation in plain text: the email's text part, and the printed letter."""
    return _template("invitation.txt").substitute(_letter_values(letter, escape=False))


def invitation_message(letter: Letter, sender: str, to: str) -> EmailMessage:
    """The email of one invitation to one parent, with a plain-text and an HTML part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = (
        f"{letter.shown_name}'s live session: {letter.session_title}, {letter.when}"
    )
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(invitation_text(letter))
    message.add_alternative(
        _template("invitation.html").substitute(_letter_values(letter, escape=True)),
        subtype="html",
    )
    return message


def notice_message(notice: Notice, sender: str) -> EmailMessage:
    """An outbox notice (a DSL alert, a parent's notice), as plain text and simple HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notice.recipient
    message["Subject"] = " ".join(notice.subject.split())
    message["Date"] = formatdate(localtime=False)
    domain = _domain(sender)
    # a notice sent again (a retry after a crash mid-send) has the Message-ID it had the first time
    message["Message-ID"] = f"<{notice.key}@{domain}>" if notice.key else make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.body)
    paragraphs = "\n".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.splitlines()) + "</p>"
        for block in notice.body.split("\n\n")
        if block.strip()
    )
    message.add_alternative(
        _template("notice.html").substitute(
            subject=html.escape(notice.subject), paragraphs=paragraphs
        ),
        subtype="html",
    )
    return message


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip(">") or "localhost"


class Mailer:
    """Sends email through one SMTP server; implements `LetterChannel` and `NoticeSender`."""

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int = 25,
        sender: str = "safeclass@localhost",
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._starttls = starttls
        self._username = username
        self._password = password
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer | None:
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )

    def reaches(self, letter: Letter) -> bool:
        return bool(letter.recipients)

    async def deliver(self, letter: Letter) -> None:
        """One email per parent (they need not see each other's addresses)."""
        failure: Exception | None = None
        sent = 0
        for to in letter.recipients:
            try:
                await self.send(invitation_message(letter, self.sender, to))
                sent += 1
            except (aiosmtplib.SMTPException, OSError) as exc:
                failure = failure or exc
        if not sent and failure is not None:
            raise failure

    async def send_notice(self, notice: Notice) -> None:
        await self.send(notice_message(notice, self.sender))

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            start_tls=self._starttls,
            username=self._username,
            password=self._password,
            timeout=self._timeout,
        )
