"""``thoughts-frontend`` command: what the native run prepares for the frontend."""

import argparse
import sys

from mythoughts import secret_key


def main(argv=None):
    parser = argparse.ArgumentParser(prog="thoughts-frontend", description="Thoughts frontend administration.")
    commands = parser.add_subparsers(dest="command", required=True)
    make_key = commands.add_parser(
        "secret-key", help="Create a random DJANGO_SECRET_KEY file for development unless it exists."
    )
    make_key.add_argument("path", nargs="?", default=str(secret_key.DEFAULT_DEV_PATH))
    arguments = parser.parse_args(argv)

    if arguments.command == "secret-key":
        print(secret_key.ensure_file(arguments.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
