"""Sign-in, the gate every request passes, CSRF, login rate limit and the security headers.

- Sessions: Flask-Login on Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure with SESSION_COOKIE_SECURE=1
  behind HTTPS). The account is re-read from the store on every request, so disabling an account or revoking a wall
  token ends its sessions at their next request (a wall's next poll).
- CSRF: Flask-WTF's CSRFProtect on every POST. Dash's renderer sends the ``_csrf_token`` cookie back as the
  ``X-CSRFToken`` header on its callback POSTs (uploads included); this module sets that cookie to a token
  Flask-WTF accepts. Forms (login, logout) carry it as a hidden field.
- The gate: each route needs a permission (security/roles.py), each Dash callback too (by the module that defines
  it; the page router by the path it is asked for). Anonymous visitors are sent to /login; a role without the
  permission gets 403.
- Local demo: served on a loopback address with no accounts in the store, every visitor is the demo officer and
  a banner says so. As soon as an account exists, the demo ends (checked at most every few seconds).
"""

from __future__ import annotations

import logging
import os
import time
from urllib.parse import urlencode, urlsplit

import flask
import flask_login
from flask import Blueprint, g, redirect, render_template_string, request, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from security import accounts, audit, roles
from security.accounts import DEMO

log = logging.getLogger(__name__)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads (config csrf_token_name)
DEMO_CHECK_SECONDS = 3.0
LOGIN_LIMIT = "10 per minute;50 per hour"

csrf = CSRFProtect()
login_manager = flask_login.LoginManager()
limiter = Limiter(
    get_remote_address,
    storage_uri=os.environ.get("CACHE_REDIS_URL") or "memory://",
    in_memory_fallback_enabled=True,
    swallow_errors=True,
    default_limits=[],
)
bp = Blueprint("security", __name__)
_demo = {"on": False, "checked": 0.0}
MIN_SECRET_KEY = 32  # characters: it signs every session and keys the ID-number hashes


def local_request() -> bool:
    """Did this request come from this machine, straight to the server? The connection's own local address (what
    the server actually bound and was reached on) and the client's must both be loopback, and no proxy may have
    forwarded it: the demo officer is for this machine only, however the server was started."""
    if request.headers.get("X-Forwarded-For") or request.headers.get("X-Real-IP") or request.headers.get("Forwarded"):
        return False
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is None and not request.remote_addr:
        return True  # no connection at all: a call inside this process (every server sets one or the other)
    try:
        local = sock.getsockname()[0] if sock is not None else "127.0.0.1"
    except (OSError, AttributeError, IndexError, TypeError):
        return False
    return is_loopback(str(local)) and is_loopback(str(request.remote_addr or ""))


class Refused(SystemExit):
    """The app must not serve as configured; the message says why in one sentence."""


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def check_serving(host: str) -> str:
    """Decide how to serve on ``host``: 'demo' (loopback, no accounts) or 'accounts'; refuse anything else."""
    has_accounts = accounts.has_accounts()
    if is_loopback(host):
        _demo.update(on=not has_accounts, checked=time.monotonic())
        return "accounts" if has_accounts else "demo"
    if not has_accounts or not os.environ.get("SECRET_KEY"):
        missing = "、".join(
            w for w, ok in (("账号", has_accounts), ("SECRET_KEY", os.environ.get("SECRET_KEY"))) if not ok
        )
        raise Refused(
            f"拒绝在 {host} 上启动：缺少{missing}。请先运行 flask --app app:server create-admin 创建管理员，"
            "并设置环境变量 SECRET_KEY；只在本机试用时用 HOST=127.0.0.1（本地演示模式）。"
        )
    if len(os.environ["SECRET_KEY"]) < MIN_SECRET_KEY:
        raise Refused(
            f"拒绝在 {host} 上启动：SECRET_KEY 太短（{len(os.environ['SECRET_KEY'])} 个字符，"
            f"至少 {MIN_SECRET_KEY} 个）；"
            '可用 python -c "import secrets; print(secrets.token_hex(32))" 生成。'
        )
    _demo.update(on=False, checked=time.monotonic())
    return "accounts"


def demo_mode() -> bool:
    """True while serving the local demo; ends for good once an account exists."""
    if _demo["on"] and time.monotonic() - _demo["checked"] > DEMO_CHECK_SECONDS:
        _demo["checked"] = time.monotonic()
        if accounts.has_accounts():
            log.warning("accounts exist now: the local demo mode ends, visitors must sign in")
            _demo["on"] = False
    return _demo["on"]


def current() -> accounts.Account | None:
    if "account" not in g:
        if demo_mode():
            g.account = DEMO
        else:
            user = flask_login.current_user
            g.account = user if getattr(user, "is_authenticated", False) else None
    return g.account


# ---- pages -----------------------------------------------------------------------------------------------------
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · 陕西省疫情防控态势感知看板</title><link rel="stylesheet" href="/assets/security.css"></head>
<body class="login-body"><main class="login-card">
<h1>陕西省疫情防控态势感知看板</h1>
{% if form %}
<h2>登录</h2>
{% if message %}<p class="login-error" role="alert">{{ message }}</p>{% endif %}
<form method="post" action="{{ url_for('security.login') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"><input type="hidden" name="next" value="{{ next }}">
<label for="username">用户名</label><input id="username" name="username" autocomplete="username" required autofocus
 value="{{ username }}">
<label for="password">密码</label><input id="password" name="password" type="password" autocomplete="current-password"
 required>
<button type="submit">登录</button>
</form>
<p class="login-note">大屏请使用管理员发放的大屏链接，无需输入密码。</p>
{% else %}
<h2>{{ title }}</h2><p class="login-error" role="alert">{{ message }}</p>
<p><a href="{{ url_for('security.login') }}">登录</a> · <a href="/">返回看板</a></p>
{% endif %}
</main></body></html>"""


def _page(title: str, message: str = "", status: int = 200, form: bool = False, **extra):
    return render_template_string(PAGE, title=title, message=message, form=form, **extra), status


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host): a login link must not send anyone elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


def _home(account) -> str:
    return "/wall" if account.role == "wall" else "/"


def _login_key() -> str:
    """Attempts are counted per address and user name: guessing one account's password is slowed down, while an
    office behind one address can still sign in its other people."""
    return f"{get_remote_address()}|{request.form.get('username', '').strip()[:64]}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, key_func=_login_key, methods=["POST"])
def login():
    if demo_mode():
        return redirect("/")
    next_url = _safe_next(request.values.get("next")) or ""
    if request.method == "GET":
        return _page("登录", form=True, next=next_url, username="")
    username = request.form.get("username", "").strip()
    account = accounts.authenticate(username, request.form.get("password", ""))
    if account is None:
        audit.record("login_failed", f"用户名 {username[:64]}", user=username or "（空）", role="-")
        return _page("登录", "用户名或密码不正确，或账号已停用。", 401, form=True, next=next_url, username=username)
    flask.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    account = accounts.start_session(account, request.remote_addr)  # kept on the server: logout ends it
    flask_login.login_user(account)
    g.account = account
    audit.record("login", f"{roles.ROLES[account.role]}，范围 {account.scope_name}")
    return redirect(next_url or _home(account))


@bp.post("/logout")
def logout():
    account = current()
    if account is not None and account is not DEMO:
        audit.record("logout")
        accounts.end_session(account.id)  # a copy of the cookie no longer signs in
    flask_login.logout_user()
    flask.session.clear()
    return redirect(url_for("security.login"))


def _wall_sign_in():
    """``/wall?token=…``: the screen signs in as role wall, then the token leaves the address bar."""
    account = accounts.wall_account(request.args.get("token", ""))
    if account is None:
        audit.record("login_failed", "大屏令牌无效或已撤销", user="大屏", role="wall")
        return _page("大屏令牌无效", "该大屏链接无效或已被撤销，请向数据管理员索取新的链接。", 403)
    flask.session.clear()
    flask.session.permanent = True  # a wall screen stays signed in across browser restarts until revoked
    account = accounts.start_session(account, request.remote_addr)
    flask_login.login_user(account, remember=False)
    g.account = account
    audit.record("wall_login", account.name)
    rest = {k: v for k, v in request.args.items() if k != "token"}
    return redirect("/wall" + (f"?{urlencode(rest)}" if rest else ""))


def _callback_of(body: dict, dash_app) -> tuple[str, str | None]:
    """(permission, audit label or None) of the Dash callback a request asks for."""
    output = str(body.get("output", ""))
    spec = dash_app.callback_map.get(output) or {}
    if "_pages_content" in output:  # the page router: the page asked for decides
        return roles.route_permission(_router_path(body, spec)), None
    func = spec.get("callback")
    permission, label = roles.callback_permission(getattr(func, "__module__", None), getattr(func, "__name__", None))
    if permission == roles.UNDECLARED:
        log.error("callback %s has no declaration (callbacks/declare.py): refused", output)
    return permission, label


def _router_path(body: dict, spec: dict) -> str:
    """The pathname the router will render: Dash hands the callback its inputs by position, whatever ids the request
    writes beside them, so the path is read at the position of the router's pathname input."""
    declared = spec.get("inputs") or []
    position = next(
        (k for k, i in enumerate(declared) if i.get("id") == "_pages_location" and i.get("property") == "pathname"),
        None,
    )
    inputs = body.get("inputs") or []
    if position is None or position >= len(inputs) or not isinstance(inputs[position], dict):
        return "/"
    return str(inputs[position].get("value") or "/")


def _describe(body: dict) -> str:
    """What an export was of: the control that asked and the view's short values (region, date, format)."""
    values = []
    for item in body.get("inputs", []) + body.get("state", []):
        for one in item if isinstance(item, list) else [item]:
            if isinstance(one, dict) and isinstance(one.get("value"), str) and len(one["value"]) <= 40:
                values.append(f"{one.get('id')}={one['value']}")
    return f"触发 {','.join(body.get('changedPropIds', []))}；{'；'.join(values)}"


def _deny(account, path: str):
    if account is None:
        if path.startswith("/_dash-"):
            return flask.jsonify({"error": "请先登录"}), 401
        return redirect(url_for("security.login", next=request.full_path.rstrip("?")))
    if path.startswith("/_dash-"):
        return flask.jsonify({"error": "无权执行此操作"}), 403
    return _page("无权访问", f"您的账号（{roles.ROLES[account.role]}）无权访问 {path}。", 403)


def decide_demo() -> None:
    """On a serving process's start: the local demo (every visitor a demo officer) while it listens on this machine
    only and no account exists. Not decided for commands: they serve nobody, and a store being upgraded or restored
    may not be readable yet."""
    host = os.environ.get("HOST", "127.0.0.1")  # `python app.py` and gunicorn.conf.py listen here
    _demo.update(on=is_loopback(host) and not accounts.has_accounts(), checked=time.monotonic())


def init_app(server: flask.Flask, dash_app) -> None:
    """The sign-in, CSRF, rate limits and the gate in front of every route and callback. Reads no data."""
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE") == "1",
        PERMANENT_SESSION_LIFETIME=30 * 86_400,  # wall screens only; staff sessions end with the browser
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session: a page left open over night still works
        WTF_CSRF_SSL_STRICT=False,  # the Referer check breaks behind proxies that drop it; SameSite + token suffice
    )
    csrf.init_app(server)
    login_manager.init_app(server)
    login_manager.user_loader(accounts.load)
    limiter.init_app(server)
    server.register_blueprint(bp)

    @server.before_request
    def gate():
        path = request.path
        if demo_mode() and not local_request():
            log.warning("local demo refused a request from %s to %s", request.remote_addr, path)
            return _page(
                "仅限本机访问",
                "本地演示模式（未配置账号）只对本机开放。请管理员创建账号并设置 SECRET_KEY 后再对网络提供服务。",
                403,
            )
        account = current()
        if path == "/wall" and request.args.get("token") and request.method == "GET":
            return _wall_sign_in()
        label = None
        if path == "/_dash-update-component" and request.method == "POST":
            permission, label = _callback_of(request.get_json(silent=True) or {}, dash_app)
        else:
            permission = roles.route_permission(path)
        role = account.role if account else None
        if not roles.allowed(role, permission):
            return _deny(account, path)
        if label and not request.args.get("cacheKey"):  # a background job's polls are the same export
            audit.record("export", f"{label}；{_describe(request.get_json(silent=True) or {})}")
        return None

    @server.errorhandler(CSRFError)
    def csrf_failed(err):
        log.warning("CSRF refused on %s: %s", request.path, err.description)
        if request.path.startswith("/_dash-"):
            return flask.jsonify({"error": "请求缺少有效的安全令牌，请刷新页面后重试"}), 400
        return _page("请刷新页面", "表单已过期或缺少安全令牌，请刷新页面后重试。", 400)

    @server.errorhandler(429)
    def too_many(_err):
        return _page("请稍后再试", "登录尝试过多，请一分钟后再试。", 429)

    @server.after_request
    def headers(response):
        # computed per answer: Dash adds inline scripts of its own (pages) after start-up; hashing them is microseconds
        response.headers.setdefault("Content-Security-Policy", content_security_policy(dash_app))
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if not request.path.startswith(("/assets/", "/_dash-component-suites/", "/api/", "/health")):
            # Dash reads this cookie and echoes it as X-CSRFToken; JavaScript must read it, so it is not HttpOnly
            response.set_cookie(
                CSRF_COOKIE,
                generate_csrf(),
                samesite="Strict",
                httponly=False,
                secure=server.config["SESSION_COOKIE_SECURE"],
            )
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def content_security_policy(dash_app) -> str:
    """Only this server's scripts, plus Dash's own inline scripts by hash; MapLibre draws in workers made from
    blob: URLs and exports pictures through data:/blob: images; plotly and Dash set inline styles."""
    scripts = " ".join(dash_app.csp_hashes())  # each already quoted: 'sha256-…'
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
