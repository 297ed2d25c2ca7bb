"""The demo users `seed_users --count N` generates: user i is user_i, user_i@example.com, a varied full name.

30 first names x 40 last names: a last name matches one user in 40, a first name one in 30. `SEED_SQL` makes
exactly the rows `demo_user()` makes, with PostgreSQL's generate_series; elsewhere the rows are built in
Python. The SQL spreads creation times a second apart, oldest first; the Python path stamps them all now.
"""

from svc_common.bulk import DemoRows

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Amina", "Wei", "Sofia", "Mateo", "Yuki", "Olga", "Kwame", "Priya", "Lars", "Fatima",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
)  # fmt: skip


def demo_user(i: int) -> dict:
    """The fields of demo user i (i >= 1)."""
    return {
        "username": demo_username(i),
        "email": f"user_{i}@example.com",
        "full_name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i // len(FIRST_NAMES) % len(LAST_NAMES)]}",
    }


def demo_username(i: int) -> str:
    return f"user_{i}"


# Parameters: first_names, last_names (text[]), count, first, last. Arrays are 1-based; i is a bigint;
# %% is the modulo operator, escaped for the driver's parameter syntax.
SEED_SQL = f"""
INSERT INTO users_userprofile (username, email, full_name, created_at, updated_at)
SELECT 'user_' || i,
       'user_' || i || '@example.com',
       (%(first_names)s::text[])[1 + i %% {len(FIRST_NAMES)}] || ' '
           || (%(last_names)s::text[])[1 + i / {len(FIRST_NAMES)} %% {len(LAST_NAMES)}],
       now() - make_interval(secs => %(count)s - i),
       now() - make_interval(secs => %(count)s - i)
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
"""  # noqa: S608 (constants of this module; values are parameters)
# Appended to SEED_SQL when some of the chunk's users exist: only the missing ones reach the INSERT (a row
# that ON CONFLICT skips would still take an id and leave a hole), and a concurrent seed cannot fail it.
ONLY_MISSING_SQL = """
WHERE NOT EXISTS (SELECT 1 FROM users_userprofile WHERE username = 'user_' || i OR email = 'user_' || i || '@example.com')
ON CONFLICT DO NOTHING
"""
# How many of the demo users first..last are there already, or blocked by another user's equal email: none,
# all (nothing to do) or some (then SEED_SQL needs ONLY_MISSING_SQL).
EXISTING_SQL = """
SELECT count(*) FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
WHERE EXISTS (SELECT 1 FROM users_userprofile WHERE username = 'user_' || i)
   OR EXISTS (SELECT 1 FROM users_userprofile WHERE email = 'user_' || i || '@example.com')
"""

# What svc_common.bulk.seed needs to make them.
USERS = DemoRows(
    insert=SEED_SQL,
    existing=EXISTING_SQL,
    only_missing=ONLY_MISSING_SQL,
    params={"first_names": list(FIRST_NAMES), "last_names": list(LAST_NAMES)},
    row=demo_user,
    key="username",
)
