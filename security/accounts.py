"""Staff accounts and wall tokens in the store. Passwords are hashed with scrypt (werkzeug's default KDF); a wall
token is shown once when made and only its SHA-256 is kept. Accounts are disabled, never deleted, so the audit log's
names keep meaning someone."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from data import store
from geo import regions
from security.roles import ACCOUNT_ROLES

MIN_PASSWORD = 10
# Checked when a name is unknown, so a wrong name takes as long as a wrong password (no name probing by timing).
_DUMMY_HASH = generate_password_hash("not a password of anyone", method="scrypt")


class AccountError(ValueError):
    """A request that cannot be done, in one Chinese sentence for the person who asked."""


@dataclass(frozen=True)
class Account:
    id: str  # Flask-Login's id: "s:<token>" for a session (see start_session), "w:<n>" for a wall token
    name: str
    role: str
    region: str | None = None  # adcode of the scope, None = the whole province

    # Flask-Login's user interface
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.id

    @property
    def scope_name(self) -> str:
        return regions.get(self.region).display_name if self.region else "全省"


DEMO = Account("demo", "演示值班员", "officer", None)  # the local demo officer, before any account exists (web.py)


def _eng(eng=None):
    return eng or store.engine()


def check_region(region: str | None) -> str | None:
    """A scope must be the province, a reporting unit (city) or a county; None or 610000 mean the whole province."""
    if not region or region == regions.province().adcode:
        return None
    if regions.get(region) is None:
        raise AccountError(f"未知地区代码 {region}：请用六位行政区划代码，如 610100（西安市）。")
    return region


def create_user(
    username: str, password: str, role: str, region: str | None = None, created_by: str = "命令行", eng=None
) -> int:
    username = (username or "").strip()
    if not username or len(username) > 64:
        raise AccountError("用户名不能为空，且不超过64个字符。")
    if role not in ACCOUNT_ROLES:
        raise AccountError(f"未知角色 {role}：可选 {'、'.join(ACCOUNT_ROLES)}。")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"密码至少{MIN_PASSWORD}个字符。")
    region = check_region(region)
    with _eng(eng).begin() as conn:
        if conn.execute(select(store.users.c.id).where(store.users.c.username == username)).first():
            raise AccountError(f"用户 {username} 已存在。")
        return conn.execute(
            insert(store.users).values(
                username=username,
                password_hash=generate_password_hash(password, method="scrypt"),
                role=role,
                region_adcode=region,
                active=True,
                created_by=created_by,
            )
        ).inserted_primary_key[0]


def set_password(username: str, password: str, eng=None) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"密码至少{MIN_PASSWORD}个字符。")
    with _eng(eng).begin() as conn:
        done = conn.execute(
            update(store.users)
            .where(store.users.c.username == username)
            .values(password_hash=generate_password_hash(password, method="scrypt"))
        )
    if done.rowcount != 1:
        raise AccountError(f"用户 {username} 不存在。")


def set_active(user_id: int, active: bool, eng=None) -> bool:
    with _eng(eng).begin() as conn:
        return conn.execute(update(store.users).where(store.users.c.id == user_id).values(active=active)).rowcount == 1


def _account(row) -> Account:
    return Account(f"u:{row.id}", row.username, row.role, row.region_adcode)


def authenticate(username: str, password: str, eng=None) -> Account | None:
    with _eng(eng).connect() as conn:
        row = conn.execute(select(store.users).where(store.users.c.username == (username or "").strip())).first()
    if row is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(row.password_hash, password or "") or not row.active:
        return None
    return _account(row)


def start_session(account: Account, address: str | None = None, eng=None) -> Account:
    """Record a sign-in; the account returned carries the session's token as its id, which only the cookie holds."""
    token = secrets.token_urlsafe(32)
    kind, _, number = account.id.partition(":")
    with _eng(eng).begin() as conn:
        conn.execute(
            insert(store.sessions).values(
                token_sha256=_digest(token),
                address=(address or "")[:64] or None,
                user_id=int(number) if kind == "u" else None,
                wall_token_id=int(number) if kind == "w" else None,
            )
        )
    return Account(f"s:{token}", account.name, account.role, account.region)


def end_session(account_id: str, eng=None) -> None:
    """Logout: the session, and every copy of its cookie, no longer signs anyone in."""
    kind, _, token = (account_id or "").partition(":")
    if kind != "s" or not token:
        return
    with _eng(eng).begin() as conn:
        conn.execute(
            update(store.sessions)
            .where(store.sessions.c.token_sha256 == _digest(token), store.sessions.c.ended_at.is_(None))
            .values(ended_at=dt.datetime.now(dt.UTC))
        )


def load(account_id: str, eng=None) -> Account | None:
    """The account behind a session's id, or None when the session ended (logout) or its account was disabled or
    its wall token revoked since."""
    kind, _, number = (account_id or "").partition(":")
    if kind == "s" and number:
        return _session(number, eng)
    if not number.isdigit():
        return None
    with _eng(eng).connect() as conn:
        if kind == "w":  # a wall screen signed in before sessions were kept: ends when its token is revoked
            row = conn.execute(
                select(store.wall_tokens).where(
                    store.wall_tokens.c.id == int(number), store.wall_tokens.c.revoked_at.is_(None)
                )
            ).first()
            return Account(f"w:{row.id}", f"大屏：{row.label}", "wall") if row else None
    return None


def _session(token: str, eng=None) -> Account | None:
    s, u, w = store.sessions, store.users, store.wall_tokens
    query = (
        select(s.c.user_id, u.c.username, u.c.role, u.c.region_adcode, u.c.active, w.c.label, w.c.revoked_at)
        .select_from(s.outerjoin(u, u.c.id == s.c.user_id).outerjoin(w, w.c.id == s.c.wall_token_id))
        .where(s.c.token_sha256 == _digest(token), s.c.ended_at.is_(None))
    )
    with _eng(eng).connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    if row.user_id is not None:
        return Account(f"s:{token}", row.username, row.role, row.region_adcode) if row.active else None
    return Account(f"s:{token}", f"大屏：{row.label}", "wall") if row.label and row.revoked_at is None else None


def has_accounts(eng=None) -> bool:
    with _eng(eng).connect() as conn:
        return conn.execute(select(func.count()).select_from(store.users)).scalar_one() > 0


def users(eng=None) -> list[dict]:
    with _eng(eng).connect() as conn:
        rows = conn.execute(
            select(
                store.users.c.id,
                store.users.c.username,
                store.users.c.role,
                store.users.c.region_adcode,
                store.users.c.active,
                store.users.c.created_at,
                store.users.c.created_by,
            ).order_by(store.users.c.id)
        ).all()
    return [row._asdict() for row in rows]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_wall_token(label: str, created_by: str = "命令行", eng=None) -> tuple[int, str]:
    """A new token for one screen: (its id, the token). The token is not stored and cannot be shown again."""
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise AccountError("请给大屏令牌起一个名称（不超过100个字符），如“省指挥中心大屏”。")
    token = secrets.token_urlsafe(32)
    with _eng(eng).begin() as conn:
        token_id = conn.execute(
            insert(store.wall_tokens).values(token_sha256=_digest(token), label=label, created_by=created_by)
        ).inserted_primary_key[0]
    return token_id, token


def wall_account(token: str, eng=None) -> Account | None:
    if not token:
        return None
    with _eng(eng).connect() as conn:
        row = conn.execute(
            select(store.wall_tokens).where(
                store.wall_tokens.c.token_sha256 == _digest(token), store.wall_tokens.c.revoked_at.is_(None)
            )
        ).first()
    return Account(f"w:{row.id}", f"大屏：{row.label}", "wall") if row else None


def revoke_wall_token(token_id: int, eng=None) -> bool:
    with _eng(eng).begin() as conn:
        return (
            conn.execute(
                update(store.wall_tokens)
                .where(store.wall_tokens.c.id == token_id, store.wall_tokens.c.revoked_at.is_(None))
                .values(revoked_at=dt.datetime.now(dt.UTC))
            ).rowcount
            == 1
        )


def wall_tokens(eng=None) -> list[dict]:
    with _eng(eng).connect() as conn:
        rows = conn.execute(
            select(
                store.wall_tokens.c.id,
                store.wall_tokens.c.label,
                store.wall_tokens.c.created_at,
                store.wall_tokens.c.created_by,
                store.wall_tokens.c.revoked_at,
            ).order_by(store.wall_tokens.c.id)
        ).all()
    return [row._asdict() for row in rows]
