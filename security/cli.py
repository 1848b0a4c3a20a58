"""Account commands: `flask --app app:server create-admin NAME`, `add-user`, `set-password`, `disable-user`,
`enable-user`, `users`, `wall-token create|revoke|list`. Passwords are asked for (twice, not echoed) or read as
one line from standard input when it is not a terminal; there is no default password."""

from __future__ import annotations

import sys

import click

from security import accounts, audit
from security.roles import ACCOUNT_ROLES, ROLES


def _fail(message: str):
    click.echo(message, err=True)
    raise SystemExit(2)


def _password() -> str:
    if not sys.stdin.isatty():  # scripted set-up: `printf '%s\n' "$PW" | flask ... create-admin root`
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")


def register(server) -> None:
    @server.cli.command("create-admin")
    @click.argument("username")
    def create_admin(username: str) -> None:
        """创建数据管理员（data_admin，全省）；首个管理员创建后，看板不再以本地演示模式运行。"""
        try:
            accounts.create_user(username, _password(), "data_admin")
        except accounts.AccountError as exc:
            _fail(str(exc))
        audit.record("user", f"创建数据管理员 {username}")
        click.echo(f"已创建数据管理员 {username}。")

    @server.cli.command("add-user")
    @click.argument("username")
    @click.option("--role", required=True, type=click.Choice(ACCOUNT_ROLES), help="viewer、officer 或 data_admin")
    @click.option("--region", default=None, help="限定地区的六位代码，如 610100（西安市）；不填为全省")
    def add_user(username: str, role: str, region: str | None) -> None:
        """添加用户：角色与可选的地区范围。"""
        try:
            accounts.create_user(username, _password(), role, region)
        except accounts.AccountError as exc:
            _fail(str(exc))
        audit.record("user", f"创建用户 {username}（{role}，范围 {region or '全省'}）")
        click.echo(f"已创建{ROLES[role]} {username}，范围 {accounts.check_region(region) or '全省'}。")

    @server.cli.command("set-password")
    @click.argument("username")
    def set_password(username: str) -> None:
        """重设用户密码。"""
        try:
            accounts.set_password(username, _password())
        except accounts.AccountError as exc:
            _fail(str(exc))
        audit.record("user", f"重设密码 {username}")
        click.echo(f"已重设 {username} 的密码。")

    def _by_name(username: str) -> dict:
        found = [u for u in accounts.users() if u["username"] == username]
        if not found:
            _fail(f"用户 {username} 不存在。")
        return found[0]

    @server.cli.command("disable-user")
    @click.argument("username")
    def disable_user(username: str) -> None:
        """停用用户（其会话在下一次请求时结束；账号保留以便审计）。"""
        accounts.set_active(_by_name(username)["id"], False)
        audit.record("user", f"停用用户 {username}")
        click.echo(f"已停用 {username}。")

    @server.cli.command("enable-user")
    @click.argument("username")
    def enable_user(username: str) -> None:
        """重新启用用户。"""
        accounts.set_active(_by_name(username)["id"], True)
        audit.record("user", f"启用用户 {username}")
        click.echo(f"已启用 {username}。")

    @server.cli.command("users")
    def list_users() -> None:
        """列出用户。"""
        for u in accounts.users():
            click.echo(
                f"{u['id']}\t{u['username']}\t{u['role']}\t{u['region_adcode'] or '全省'}\t"
                f"{'启用' if u['active'] else '停用'}"
            )

    @server.cli.group("wall-token")
    def wall_token() -> None:
        """大屏令牌：只读的大屏登录链接，可随时撤销。"""

    @wall_token.command("create")
    @click.argument("label")
    @click.option("--base-url", default="http://127.0.0.1:8050", help="看板的访问地址，用于打印完整链接")
    def create_token(label: str, base_url: str) -> None:
        """创建大屏令牌，打印一次性显示的大屏链接。"""
        try:
            token_id, token = accounts.create_wall_token(label)
        except accounts.AccountError as exc:
            _fail(str(exc))
        audit.record("wall_token", f"创建大屏令牌 {token_id}（{label}）")
        click.echo(f"大屏令牌 {token_id}（{label}）已创建。链接只显示这一次，请妥善保存：")
        click.echo(f"{base_url.rstrip('/')}/wall?token={token}")

    @wall_token.command("revoke")
    @click.argument("token_id", type=int)
    def revoke_token(token_id: int) -> None:
        """撤销大屏令牌：使用它的大屏在下一次刷新数据时退出。"""
        if not accounts.revoke_wall_token(token_id):
            _fail(f"大屏令牌 {token_id} 不存在或已撤销。")
        audit.record("wall_token", f"撤销大屏令牌 {token_id}")
        click.echo(f"大屏令牌 {token_id} 已撤销。")

    @wall_token.command("list")
    def list_tokens() -> None:
        """列出大屏令牌。"""
        for t in accounts.wall_tokens():
            click.echo(f"{t['id']}\t{t['label']}\t{'已撤销' if t['revoked_at'] else '有效'}")
