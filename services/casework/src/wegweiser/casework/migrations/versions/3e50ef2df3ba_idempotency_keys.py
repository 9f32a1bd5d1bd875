"""Changes made once per key: the API's ``Idempotency-Key`` and the web forms' one-time token."""

from wegweiser.common.migrations.building_blocks import create_idempotency_keys, drop_tables

revision = "3e50ef2df3ba"
down_revision = "3f5afc687969"


def upgrade() -> None:
    # Whose key or token it is: the API caller, or "web:<subject>" for a web form.
    create_idempotency_keys(owner="owner", owner_length=300)


def downgrade() -> None:
    drop_tables("idempotency_keys")
