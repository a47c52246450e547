"""`aizen`: the operator command line and the local stack.

Every command prints its result, and only its result, on stdout: one JSON document
(`traffic` streams NDJSON, one event a line; `serve` one JSON line, then runs).
Logs, progress bars and errors go to stderr (errors as JSON, with a non-zero exit
status).

A command imports what only it needs inside its function (pydantic, the rollup job, the
import pipeline), so the short commands do not pay for the others' imports at start-up.
"""

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from aizen.auth.sessions import DEFAULT_SESSION_SECONDS, start_session
from aizen.errors import AizenError, InvalidRequest, NotFound
from aizen.observability import logger
from aizen.store import accounts
from aizen_local import connection


def _print(document: Any) -> int:
    print(json.dumps(document, indent=2))
    return 0


def _iso_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a time zone (Z or an offset)")
    return parsed


def _users_create(args: argparse.Namespace) -> int:
    from aizen import admin

    return _print(admin.create_user(args.email, billing_active=args.billing)._asdict())


def _sites_create(args: argparse.Namespace) -> int:
    from aizen import admin

    return _print(admin.create_site(args.domain, args.timezone, args.owner)._asdict())


def _sessions_create(args: argparse.Namespace) -> int:
    if accounts.get_user(args.user) is None:
        raise NotFound(f"user {args.user} not found")
    session = start_session(args.user, args.days * 86400)
    return _print(
        {"user_id": session.user_id, "token": session.token, "cookie": session.cookie, "expires_at": session.expires_at}
    )


def _site(site_id: str) -> str:
    site = accounts.get_site(site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return site.owner_user_id


def _keys_create(args: argparse.Namespace) -> int:
    from aizen.auth import keys as key_management

    owner = _site(args.site)
    if not 1 <= len(args.name) <= 100 or not args.name.strip():
        raise InvalidRequest("name must be 1-100 characters")
    key, token = key_management.issue_api_key(args.site, owner, args.name, args.expires_at)
    return _print({"key": key_management.key_view(key), "token": token})


def _keys_list(args: argparse.Namespace) -> int:
    from aizen.auth import keys as key_management

    _site(args.site)
    return _print({"keys": [key_management.key_view(key) for key in key_management.site_keys(args.site)]})


def _keys_revoke(args: argparse.Namespace) -> int:
    from aizen.auth import keys as key_management

    _site(args.site)
    key_management.revoke_api_key(args.site, args.key)
    return _print({"ok": True})


def _goals_create(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from aizen import site_goals
    from aizen.validation import describe

    _site(args.site)
    try:
        request = site_goals.CreateGoalRequest(event=args.event, page=args.page, display_name=args.name)
    except ValidationError as error:
        raise InvalidRequest(describe(error, site_goals.CreateGoalRequest)) from None
    return _print({"goal": site_goals.goal_view(site_goals.create_goal(args.site, request))})


def _goals_list(args: argparse.Namespace) -> int:
    from aizen import site_goals

    _site(args.site)
    return _print({"goals": [site_goals.goal_view(goal) for goal in site_goals.site_goals(args.site)]})


def _goals_delete(args: argparse.Namespace) -> int:
    from aizen import site_goals

    _site(args.site)
    site_goals.delete_goal(args.site, args.goal)
    return _print({"ok": True})


def _rollup(args: argparse.Namespace) -> int:
    from aizen.rollup import job

    if args.site:
        _site(args.site)
    return _print(job.run([args.site] if args.site else None, retry_set_aside=args.retry_set_aside).as_dict())


def _compact(args: argparse.Namespace) -> int:
    from aizen import compaction

    if args.site:
        _site(args.site)
    sites = [args.site] if args.site else None
    return _print(compaction.run(sites, retry_set_aside=args.retry_set_aside).as_dict())


def _import(args: argparse.Namespace) -> int:
    from aizen_local import importing

    return importing.run_import(args.site, args.file, progress=args.progress)


def _traffic(args: argparse.Namespace) -> int:
    from datetime import UTC

    from aizen_local.traffic import TrafficPlan, ndjson_lines

    end = args.end or datetime.now(UTC)
    plan = TrafficPlan(args.domain, args.timezone, end, args.days, args.visitors, seed=args.seed)
    for line in ndjson_lines(plan):
        print(line)
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from aizen_local import openapi

    sys.stdout.write(openapi.document_text())
    return 0


def _serve(args: argparse.Namespace) -> int:
    # Imported here: the stack loads moto's server, which no other command needs.
    from aizen_local.stack import ServeOptions, serve

    return serve(ServeOptions(host=args.host, port=args.port, demo=args.demo, workers=args.workers))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aizen", description=__doc__)
    parser.add_argument("--stack", help="use the tables of this deployed CloudFormation stack")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        parent: Any, name: str, run: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    serve_cmd = command(commands, "serve", _serve, "run the whole API locally (embedded DynamoDB, demo data)")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=3000, help="0 picks a free port")
    serve_cmd.add_argument("--no-demo", dest="demo", action="store_false", help="do not seed the demo tenant")
    serve_cmd.add_argument("--workers", type=int, default=4, help="concurrent Lambda execution environments")

    command(commands, "openapi", _openapi, "print the OpenAPI 3.1 description (docs/openapi.json)")

    users = commands.add_parser("users", help="dashboard users").add_subparsers(dest="action", required=True)
    users_create = command(users, "create", _users_create, "create a user")
    users_create.add_argument("--email", required=True)
    users_create.add_argument("--no-billing", dest="billing", action="store_false", help="owner without API access")

    sites = commands.add_parser("sites", help="sites").add_subparsers(dest="action", required=True)
    sites_create = command(sites, "create", _sites_create, "create a site")
    sites_create.add_argument("--domain", required=True)
    sites_create.add_argument("--timezone", required=True, help="IANA zone, e.g. Europe/Berlin")
    sites_create.add_argument("--owner", required=True, help="user id")

    sessions = commands.add_parser("sessions", help="dashboard sessions").add_subparsers(dest="action", required=True)
    sessions_create = command(sessions, "create", _sessions_create, "sign a user in: prints the session cookie")
    sessions_create.add_argument("--user", required=True, help="user id")
    sessions_create.add_argument("--days", type=int, default=DEFAULT_SESSION_SECONDS // 86400)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", required=True)
    keys_create = command(keys, "create", _keys_create, "create an API key (the token is shown once)")
    keys_create.add_argument("--site", required=True)
    keys_create.add_argument("--name", required=True)
    keys_create.add_argument("--expires-at", type=_iso_datetime, help="ISO-8601 with Z or an offset")
    keys_list = command(keys, "list", _keys_list, "list a site's keys, newest first")
    keys_list.add_argument("--site", required=True)
    keys_revoke = command(keys, "revoke", _keys_revoke, "revoke a key")
    keys_revoke.add_argument("--site", required=True)
    keys_revoke.add_argument("--key", required=True, help="key id")

    goals = commands.add_parser("goals", help="a site's goals").add_subparsers(dest="action", required=True)
    goals_create = command(goals, "create", _goals_create, "create a goal: a custom event or a page pattern")
    goals_create.add_argument("--site", required=True)
    definition = goals_create.add_mutually_exclusive_group(required=True)
    definition.add_argument("--event", help="a custom event's name, as the tracker sends it")
    definition.add_argument("--page", help="a page path pattern (* within a segment, ** across segments)")
    goals_create.add_argument("--name", help="display name (default: the event name, or 'Visit <page>')")
    goals_list = command(goals, "list", _goals_list, "list a site's goals, oldest first")
    goals_list.add_argument("--site", required=True)
    goals_delete = command(goals, "delete", _goals_delete, "delete a goal")
    goals_delete.add_argument("--site", required=True)
    goals_delete.add_argument("goal", metavar="GOAL_ID", help="goal id")

    import_cmd = command(commands, "import", _import, "import NDJSON events (validated first; all or nothing)")
    import_cmd.add_argument("--site", required=True)
    import_cmd.add_argument("file", help="NDJSON file, one event a line ('-' for standard input)")
    import_cmd.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)"
    )

    traffic = command(commands, "traffic", _traffic, "print realistic demo traffic as import NDJSON")
    traffic.add_argument("--domain", required=True)
    traffic.add_argument("--timezone", default="UTC")
    traffic.add_argument("--days", type=int, default=90, help="local days ending today")
    traffic.add_argument("--visitors", type=float, default=60.0, help="weekday visitors on the first day")
    traffic.add_argument("--end", type=_iso_datetime, help="no event at or after this instant (default: now)")
    traffic.add_argument("--seed", type=int, default=7)

    rollup = command(commands, "rollup", _rollup, "run the rollup now, every site (or one) in this process")
    rollup.add_argument("--site", help="only this site")
    rollup.add_argument(
        "--retry-set-aside",
        action="store_true",
        help="also roll up the days set aside after 3 unfinished attempts (run it where there is more memory)",
    )
    compact = command(commands, "compact", _compact, "run the scheduled compaction job now (hours into blocks)")
    compact.add_argument("--site", help="only this site")
    compact.add_argument(
        "--retry-set-aside",
        action="store_true",
        help="also pack the hours set aside after 3 unfinished attempts (run it where there is more memory)",
    )
    return parser


@contextlib.contextmanager
def _logs_on_stderr() -> Iterator[None]:
    """The layer's logger writes to stderr while a command runs: in Lambda it writes to stdout
    (CloudWatch reads it), but here stdout is the command's result, so a job's log line must not
    land in it. Restored afterwards, for callers that run commands in-process (tests)."""
    handler = logger.registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    previous = handler.stream
    handler.setStream(sys.stderr)
    try:
        yield
    finally:
        handler.setStream(previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _logs_on_stderr():
            if args.command not in ("serve", "traffic", "openapi"):
                connection.connect(args.stack)
            return int(args.run(args))
    except (AizenError, connection.ConnectionProblem) as error:
        code = error.code if isinstance(error, AizenError) else "not_connected"
        print(json.dumps({"error": {"code": code, "message": str(error)}}), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
