"""The ``unifiedqr`` command line: one command group per concern, loaded lazily.

Results go to stdout (human text, or JSON with ``--json``); logs, warnings and progress go to stderr.
Exit status 0 on success; 1 with a one-line ``error: field: reason`` on stderr when the input or the
operation fails; 2 for usage errors (click's convention). Commands are imported only when invoked,
so ``unifiedqr parse`` does not pay for the web framework.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import click

from unifiedqr import __version__
from unifiedqr.errors import UnifiedQRError

#: command name -> "module:attribute"; each concern registers its commands here.
COMMANDS: dict[str, str] = {
    "parse": "unifiedqr.cli.codes:parse_cmd",
    "issue": "unifiedqr.cli.codes:issue_cmd",
    "verify": "unifiedqr.cli.codes:verify_cmd",
    "classify": "unifiedqr.cli.codes:classify_cmd",
    "keygen": "unifiedqr.cli.trust:keygen_cmd",
    "trust": "unifiedqr.cli.trust:trust_group",
    "render": "unifiedqr.cli.imaging:render_cmd",
    "scan": "unifiedqr.cli.imaging:scan_cmd",
    "serve": "unifiedqr.cli.platform:serve_cmd",
    "admin": "unifiedqr.cli.platform:admin_group",
    "db": "unifiedqr.cli.platform:db_group",
    "login": "unifiedqr.cli.platform:login_cmd",
    "demo": "unifiedqr.cli.demo:demo_cmd",
    "venue": "unifiedqr.cli.venues:venue_group",
    "checkin": "unifiedqr.cli.venues:checkin_cmd",
    "selfcheck": "unifiedqr.cli.selfcheck:selfcheck_cmd",
    "dcc": "unifiedqr.cli.dcc:dcc_group",
    "conformance": "unifiedqr.cli.conformance:conformance_group",
    "health": "unifiedqr.cli.health:health_group",
    "purge": "unifiedqr.cli.retention:purge_cmd",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, and which turns our errors into one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        _accept_dash_arguments(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UnifiedQRError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except OSError as exc:
            name = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            click.echo(f"error:{name}: {exc.strerror or exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


_ID_LIKE = re.compile(r"-[A-Za-z0-9_-]{5,}")


def _accept_dash_arguments(command: click.Command) -> None:
    """Let positional values start with ``-``: key ids and venue ids are base64url, and 1 in 64
    begins with a dash, which click would take for an (unknown) option and exit 2.

    Before click parses, every token that is neither a declared option nor an option's value is
    moved, in order, behind ``--``; an unknown dash token counts as a value only when it is
    id-shaped (6+ base64url characters), so a mistyped short option still gets click's error.
    """
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_dash_arguments(sub)
        return
    if not any(isinstance(param, click.Argument) for param in command.params):
        return
    takes_value = {"--help": False, "-h": False}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                takes_value[name] = not (param.is_flag or param.count)
    original = command.parse_args

    def parse_args(ctx: click.Context, args: list[str]) -> list[str]:
        options: list[str] = []
        values: list[str] = []
        index = 0
        while index < len(args):
            arg = args[index]
            if arg == "--":
                values += args[index + 1 :]
                break
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg
            if name in takes_value:
                options.append(arg)
                if takes_value[name] and "=" not in arg and index + 1 < len(args):
                    options.append(args[index + 1])
                    index += 1
            elif arg.startswith("-") and len(arg) > 1 and not _ID_LIKE.fullmatch(arg):
                options.append(arg)  # unknown option: click reports it
            else:
                values.append(arg)
            index += 1
        return original(ctx, [*options, "--", *values] if values else options)

    setattr(command, "parse_args", parse_args)  # noqa: B010 - an instance override, not a typo


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="unifiedqr")
def main() -> None:
    """Unified personal QR code: read, write, sign, verify, render and serve the national code."""
