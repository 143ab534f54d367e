"""RFC 9457 problem documents for every error the API returns, naming the field at fault."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from centralita.api.language import request_language
from centralita.core.errors import CentralitaError, TooManyRequests, field_message, title
from centralita.core.i18n import _, using

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://centralita.dev/problems/"


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(CentralitaError)
    async def _domain(request: Request, exc: CentralitaError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooManyRequests) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return problem(
            exc.status,
            exc.type_slug,
            title(exc.type_slug, exc.title),
            exc.detail,
            request.url.path,
            [e.as_dict() for e in exc.errors],
            headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            where = "body" if err.get("type") == "json_invalid" else _loc(tuple(err.get("loc", ())))  # not a position
            errors.append({"field": where, "message": field_message(err)})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid-input", title("invalid-input", ""), detail, request.url.path, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, nested beyond any reason)
            errors = [{"field": "body", "message": _("is not valid JSON")}]
            detail = f"body: {errors[0]['message']}"
            return problem(422, "invalid-input", title("invalid-input", ""), detail, request.url.path, errors)
        slug = {
            404: "not-found",
            405: "method-not-allowed",
            401: "unauthorized",
            403: "forbidden",
            413: "content-too-large",
        }.get(exc.status_code, "http-error")
        said = title(slug, str(exc.detail))
        return problem(
            exc.status_code,
            slug,
            said,
            str(exc.detail) if slug == "content-too-large" else said,  # ours, translated already
            request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        import logging

        from centralita.api.access_log import request_id

        logging.getLogger("centralita.api").exception(
            "unhandled error on %s (request_id=%s)", request.url.path, request_id() or "-"
        )
        lang = request_language(request.scope)  # this handler runs outside the language middleware
        with using(lang):
            return problem(
                500,
                "internal-error",
                title("internal-error", ""),
                _("an unexpected error occurred; nothing was changed"),
                request.url.path,
                headers={"Content-Language": lang, "Vary": "Accept-Language"},
            )
