"""import_users FILE: load user profiles from CSV or JSON Lines (svc_common.importing; docs/data.md)."""

from svc_common.importing import ImportCommand
from users.services import USER_IMPORT


class Command(ImportCommand):
    help = "Load user profiles (username, email, full_name) from CSV or JSON Lines, in batches."
    spec = USER_IMPORT
