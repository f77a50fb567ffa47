"""Rendering the staff's pages: Jinja2 templates, in English or Welsh, under a strict CSP.

Every page made here is sent with a Content-Security-Policy that lets it load only this
server's own style sheet and ES modules (`static_files`), run no inline script or style, post
forms only to this server, talk only to this server (and its room socket), and be framed by
nobody, and with `Referrer-Policy: same-origin` (see `render`). Templates are autoescaped; a
page's words are `gettext` calls (`i18n`). Pages are `no-store`: they may name pupils and staff.
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request

from safeclass.web import i18n
from safeclass.web.deps import services_of
from safeclass.web.static_files import static_url

_BASE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; media-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def content_security_policy(origin: str) -> str:
    """The pages' policy; `connect-src` names this server (its public origin) and the room's
    WebSocket origin, `ws://` or `wss://` as the server is http or https."""
    scheme, _, host = origin.partition("://")
    ws = f"{'wss' if scheme == 'https' else 'ws'}://{host}"
    return f"{_BASE_CSP}; connect-src 'self' {origin} {ws}"


@functools.cache
def environment(language: str) -> Environment:
    """The templates, with `language`'s translations installed (one environment per language)."""
    env = Environment(
        loader=PackageLoader("safeclass.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = static_url
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page `template` in the request's language, with the pages' headers; a `?lang=`
    choice is remembered in the `sc_lang` cookie."""
    language = i18n.language_of(request)
    body = (
        environment(language)
        .get_template(template)
        .render(
            lang=language,
            languages=[(code, i18n.NATIVE_NAMES[code]) for code in i18n.LANGUAGES],
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(
        body,
        status_code=status,
        headers={
            "Content-Security-Policy": content_security_policy(
                services_of(request).settings.origin
            ),
            "Cache-Control": "no-store",
            # not the server's `no-referrer`: with it a browser sends `Origin: null` with the
            # pages' forms, and the sign-in's Origin check (rightly) refuses them. Our pages'
            # addresses hold no secret, and no other site is ever sent one.
            "Referrer-Policy": "same-origin",
            "Content-Language": language,
            "Vary": "Accept-Language, Cookie",
            **(headers or {}),
        },
    )
    remember_language(request, response)
    return response


def remember_language(request: Request, response: Response) -> None:
    """A `?lang=` choice (the switch) is kept in the `sc_lang` cookie, so it sticks on every page
    and in the room's messages."""
    if i18n.chosen_in_address(request) is None:
        return
    response.set_cookie(
        i18n.LANG_COOKIE,
        i18n.language_of(request),
        max_age=365 * 24 * 3600,
        path="/",
        secure=services_of(request).settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def not_now(request: Request, line: str, back_href: str, back_text: str) -> HTMLResponse:
    """409 "This cannot be done now" with why (`line`) and the way back, both already in the
    request's language: a staff action refused for the state of the lesson or the pupil."""
    return render(
        request,
        "problem.html",
        status=409,
        heading=i18n.translations(i18n.language_of(request)).gettext("This cannot be done now"),
        lines=[line],
        action_href=back_href,
        action_text=back_text,
    )
