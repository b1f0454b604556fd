"""What the command line runs for the web application: `inspector serve`, `inspector users add`,
`inspector runs import`, and the demonstration set-up of `make serve`."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError
from ..history import schema
from ..history.commands import ImportReport, render_import
from ..history.database import write_transaction
from ..history.lifecycle import load_lifecycle
from ..history.location import DbRef
from ..history.store import HistoryStore
from . import users
from .importing import import_run
from .settings import Settings


def run_server(settings: Settings, host: str, port: int, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted (uvicorn, one process: the engine thread and the warm engines are per
    process). The socket is bound here first, so that the address `announce`d is the one served,
    `--port 0` included (the system picks a free port); a port in use is a usage error."""
    import uvicorn

    from .app import create_app

    if not 0 <= port <= 65535:
        raise UsageError(f"端口应为 0–65535 之间的整数，实为 {port}")
    try:
        listening = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise UsageError(
            f"无法在 {host}:{port} 上监听：{exc.strerror or exc}。端口可能已被占用：请用 --port 另选端口"
            "（--port 0 由系统选一个空闲端口）"
        ) from None
    with listening:
        bound = listening.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        announce(f"督导整改平台：http://{shown}:{bound}/ （Ctrl-C 停止）")
        app = create_app(settings)
        config = uvicorn.Config(app, log_level="info", access_log=False, server_header=False)
        uvicorn.Server(config).run(sockets=[listening])


def add_user(
    db: DbRef,
    username: str,
    password: str,
    role: str,
    *,
    county: str | None,
    school: str | None,
    display_name: str | None = None,
) -> str:
    with HistoryStore.open(db, create=True) as store, write_transaction(store.conn) as conn:
        user = users.add_user(
            conn, username, password, role, county=county, school_id=school, display_name=display_name
        )
    return f"已创建账号 {user.username}（{user.role_label}{'，' + (user.county or user.school_id or '') if user.county or user.school_id else ''}）"


def import_command(db: DbRef, out_dir: Path, today: dt.date, source: Path | None = None) -> str:
    report: ImportReport = import_run(db, out_dir, today, source)
    return render_import(report, load_lifecycle())


DEMO_USERS = (
    ("admin", "admin", "系统管理员", None, None),
    ("inspector", "inspector", "王督学", None, None),
    ("county", "county", "柳北区教育局", "柳北区", None),
    ("school", "school", None, None, None),  # a school of that county with findings
    ("auditor", "auditor", "审计员", None, None),
)


def demo(db: DbRef, out_dir: Path, today: dt.date, source: Path | None = None) -> list[str]:
    """Import the demo audit (once) and give one account per role a fresh one-time password."""
    lines = [import_command(db, out_dir, today, source)]
    with HistoryStore.open(db) as store, write_transaction(store.conn) as conn:
        from sqlalchemy import select

        t = schema.items
        school = conn.execute(
            select(t.c.school_id, t.c.school_name)
            .where(t.c.county == "柳北区", t.c.school_id.is_not(None))
            .order_by(t.c.school_id)
        ).first()
        if school is None:
            raise UsageError("演示审核中没有柳北区学校的问题")
        lines.append("演示账号（一次性密码，首次登录后须修改）：")
        for username, role, name, county, _ in DEMO_USERS:
            password = users.one_time_password()
            school_id = school.school_id if role == "school" else None
            display = name or f"{school.school_name}"
            existing = users.find_user(conn, username)
            if existing is None:
                users.add_user(
                    conn,
                    username,
                    password,
                    role,
                    county=county,
                    school_id=school_id,
                    display_name=display,
                    must_change=True,
                )
            else:
                users.set_password(conn, existing.id, password, must_change=True)
            lines.append(
                f"  {users.ROLE_LABELS[role]}\t{username}\t{password}"
                + (f"\t{county}" if county else "")
                + (f"\t{school.school_name}（{school_id}）" if school_id else "")
            )
    return lines
