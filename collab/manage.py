"""The `collab` console script: Django's management commands under the project's own name."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.config.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    # `collab import-agp` reads better than import_agp; Django command names cannot hold hyphens.
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    execute_from_command_line([sys.argv[0], *args])


if __name__ == "__main__":
    main()
