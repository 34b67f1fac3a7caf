"""The explorer's web application (Starlette): read-only pages over one ledger.

Routes are GET only (Starlette answers any other method with 405), so no request can write;
the data layer (:mod:`rexnet.serve.explorer`) only reads anyway. Errors become pages, never
stack traces: an unknown run or participant is a 404 page, a bad parameter or a refused SQL
statement a 400 page, anything else a 500 page with no detail. Every message that reaches a page
passes the :class:`~rexnet.serve.fmt.Redactor`, so neither the database password nor the
server's ledger path is ever shown.

Scripts, styles and fonts come from the package (and plotly.min.js from the ``plotly`` package):
the pages work with no internet, which the Content-Security-Policy header also enforces.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rexnet.analytics.errors import AnalyticsError
from rexnet.errors import CheckFailed, InputError, RexnetError, RunNotFound
from rexnet.serve import overview as overview_data
from rexnet.serve import trail as trail_data
from rexnet.serve.explorer import Explorer
from rexnet.serve.mirroring import Preparing
from rexnet.serve.timeline import seq_at

if TYPE_CHECKING:
    from rexnet.store.records import RunInfo

#: no CDN, no remote anything: scripts and styles from this server only (plotly sets inline styles)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)


def plotly_js() -> Path:
    """The plotly.min.js shipped inside the ``plotly`` package (package_data)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("rexnet.serve", "templates"), autoescape=select_autoescape())
    env.filters["short"] = lambda h: (h or "")[:12]
    # SQL doubles (VWAPs, sums) shown to 4 decimals; exact figures are passed as text, untouched
    env.filters["r4"] = lambda v: (
        "" if v is None else (f"{v:.4f}".rstrip("0").rstrip(".") if isinstance(v, float) else v)
    )
    return env


class Pages:
    """The route handlers over one :class:`Explorer` (sync: Starlette runs them in its thread pool)."""

    def __init__(self, explorer: Explorer) -> None:
        self.ex = explorer
        self.env = _env()

    def compile_templates(self) -> None:
        """Compile every template once (Jinja keeps them), ahead of the first pages."""
        for name in self.env.list_templates():
            self.env.get_template(name)

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(ledger=self.ex.redact.label, **context)
        return HTMLResponse(html, status_code=status)

    # -- pages ---------------------------------------------------------------------------------------
    def runs(self, request: Request) -> Response:
        return self.page("runs.html", runs=self.ex.runs())

    def overview(self, request: Request) -> Response:
        run = self.ex.run(request.path_params["run"])
        data = overview_data.overview(self.ex, run)
        self.ex.timeline(run).start_warming()  # the book page is likely next
        return self.page("overview.html", run=run, data=data, audit=self.ex.cached_audit(run))

    def audit(self, request: Request) -> Response:
        run = self.ex.run(request.path_params["run"])
        return self.page("audit.html", run=run, audit=self.ex.audit(run))

    def book(self, request: Request) -> Response:
        run = self.ex.run(request.path_params["run"])
        timeline = self.ex.timeline(run)
        seq = self._point(request, run, default_middle=True)
        view = timeline.view(seq)
        timeline.start_warming()
        return self.page("book.html", run=run, view=view, end=timeline.end_ms() / 1000.0)

    def book_json(self, request: Request) -> Response:
        run = self.ex.run(request.path_params["run"])
        seq = self._point(request, run, default_middle=False)
        return JSONResponse(self.ex.timeline(run).view(seq))

    def trail(self, request: Request) -> Response:
        run = self.ex.run(request.path_params["run"])
        agent = request.query_params.get("agent", "").strip()
        unit_text = request.query_params.get("unit", "").strip()
        if not agent and not unit_text:
            return self.page("trail.html", run=run, trail=None, agent="", unit="")
        if not agent:
            raise InputError("give a participant (agent)")
        unit = _int(request, "unit")
        if unit is None:
            raise InputError("give a unit")
        data = trail_data.trail(self.ex.store, run, agent, unit)
        profile = self.ex.profile(run, agent, unit)
        return self.page("trail.html", run=run, trail=data, agent=agent, unit=unit, profile=profile)

    def fork(self, request: Request) -> Response:
        run = self.ex.run(request.path_params["run"])
        if run.parent_run_id is None:
            raise InputError(f"run {run.run_id} is not a fork: it has no parent to compare with")
        return self.page("fork.html", run=run, data=overview_data.fork_page(self.ex, run))

    def sql(self, request: Request) -> Response:
        text = request.query_params.get("q")
        run_ref = request.query_params.get("run") or None
        if text is None:
            return self.page("sql.html", q=_EXAMPLE_SQL, run_ref=run_ref or "", result=None)
        result = self.ex.sql(text, run_ref)
        return self.page("sql.html", q=text, run_ref=run_ref or "", result=result)

    def plotly(self, request: Request) -> Response:
        return FileResponse(plotly_js(), media_type="text/javascript")

    # -- parameters ----------------------------------------------------------------------------------
    def _point(self, request: Request, run: RunInfo, *, default_middle: bool) -> int:
        """The seq asked for by ``?seq=N`` or ``?t=SECONDS`` (default: the middle of the run or the head)."""
        seq = _int(request, "seq")
        t = _float(request, "t")
        if seq is not None and t is not None:
            raise InputError("give seq or t, not both")
        timeline = self.ex.timeline(run)
        if seq is not None:
            return timeline.check_seq(seq)
        if t is not None:
            return seq_at(self.ex.store, run, int(t * 1000))
        if default_middle and run.head_seq >= 0:
            return seq_at(self.ex.store, run, timeline.end_ms() // 2)
        return run.head_seq


#: seconds after which the progress page reloads itself (and its Retry-After)
RETRY_SECONDS = 2

_EXAMPLE_SQL = "SELECT unit, vwap, volume, n_trades FROM unit_prices ORDER BY unit LIMIT 20"


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"parameter {name} must be an integer, not {raw[:40]!r}") from None
    if not -(2**62) < value < 2**62:
        raise InputError(f"parameter {name} is out of range")
    return value


def _float(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"parameter {name} must be a number, not {raw[:40]!r}") from None
    if not math.isfinite(value) or value < 0 or value > 1e12:
        raise InputError(f"parameter {name} must be a time in seconds >= 0, not {raw[:40]!r}")
    return value


def create_app(db_url: str, *, explorer: Explorer | None = None) -> Starlette:
    """The explorer application over the ledger at ``db_url`` (opened once, here)."""
    ex = explorer or Explorer(db_url)
    pages = Pages(ex)

    def error_page(request: Request, status: int, title: str, message: str) -> Response:
        message = ex.redact(message)
        if request.url.path.endswith(".json"):
            return JSONResponse({"error": message}, status_code=status)
        return pages.page("error.html", status=status, title=title, message=message)

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_page(request, 404, "Not found", str(exc))

    async def bad_input(request: Request, exc: Exception) -> Response:
        return error_page(request, 400, "Bad request", str(exc))

    async def check_failed(request: Request, exc: Exception) -> Response:
        return error_page(request, 422, "Check failed", str(exc))

    async def preparing(request: Request, exc: Exception) -> Response:
        # not an error: the page is ready in a while; browsers reload it (meta refresh), scripts
        # see 503 with Retry-After
        message = ex.redact(str(exc))
        if request.url.path.endswith(".json"):
            response: Response = JSONResponse({"error": message}, status_code=503)
        else:
            response = pages.page(
                "preparing.html", status=503, title="Preparing", message=message, retry=RETRY_SECONDS
            )
        response.headers["Retry-After"] = str(RETRY_SECONDS)
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            response = error_page(request, 405, "Method not allowed", "this explorer is read-only: GET only")
            response.headers["Allow"] = "GET, HEAD"
            return response
        return error_page(request, exc.status_code, "Error", str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_page(
            request, 500, "Server error", "the explorer failed on this request (see the server log)"
        )

    routes = [
        Route("/", pages.runs),
        Route("/runs/{run}", pages.overview),
        Route("/runs/{run}/audit", pages.audit),
        Route("/runs/{run}/book", pages.book),
        Route("/runs/{run}/book.json", pages.book_json),
        Route("/runs/{run}/trail", pages.trail),
        Route("/runs/{run}/fork", pages.fork),
        Route("/sql", pages.sql),
        Route("/static/plotly.min.js", pages.plotly),
        Mount("/static", app=StaticFiles(packages=[("rexnet.serve", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            Preparing: preparing,
            RunNotFound: not_found,
            InputError: bad_input,
            AnalyticsError: bad_input,
            CheckFailed: check_failed,
            RexnetError: bad_input,
            HTTPException: http_error,
            Exception: server_error,
        },
        middleware=[Middleware(SecurityHeaders)],
        lifespan=_closing(ex, pages) if explorer is None else None,
    )
    app.state.explorer = ex
    return app


def _closing(ex: Explorer, pages: Pages) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ex.start([pages.compile_templates])  # the analytics mirror is brought up to date meanwhile
        yield
        ex.close()

    return lifespan


class SecurityHeaders:
    """ASGI middleware: the Content-Security-Policy (this server only) and no-sniff headers."""

    _HEADERS = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self._HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)
