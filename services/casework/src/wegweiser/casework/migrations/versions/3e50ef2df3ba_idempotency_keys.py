"""Changes made once per key: the API's ``Idempotency-Key`` and the web forms' one-time token."""

from wegweiser.common.migrations import shared

revision = "3e50ef2df3ba"
down_revision = "3f5afc687969"


def upgrade() -> None:
    # Whose key or token it is: the API caller, or "web:<subject>" for a web form.
    shared.create_idempotency_keys(owner="owner", owner_length=300)


def downgrade() -> None:
    shared.drop_tables("idempotency_keys")
