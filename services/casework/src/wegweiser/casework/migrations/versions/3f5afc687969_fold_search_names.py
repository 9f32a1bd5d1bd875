"""Search names folded like ``wegweiser.common.names.fold``: "Yilmaz" finds "Yılmaz", "Shevchenko" "Шевченко".

Recomputes ``cases.search_names`` of the rows stored with the earlier lower-case form.
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from wegweiser.common import names

revision = "3f5afc687969"
down_revision = "ecfb11e25000"

# The table as this revision knows it, not as the model may look later.
cases = sa.table(
    "cases",
    sa.column("case_id", sa.Uuid()),
    sa.column("persons", sa.JSON()),
    sa.column("search_names", sa.Text()),
)


def _refold(key: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(cases.c.case_id, cases.c.persons)).all()
    for case_id, persons in rows:
        folded = " | ".join(key(f"{p['family_name']} {p['given_names']}") for p in persons or [])
        connection.execute(sa.update(cases).where(cases.c.case_id == case_id).values(search_names=folded))


def upgrade() -> None:
    _refold(names.fold)


def downgrade() -> None:
    _refold(str.lower)
