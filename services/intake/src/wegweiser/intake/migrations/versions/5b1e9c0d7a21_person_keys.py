"""Person keys: the data keys of personal fields sealed on Kafka (crypto-shredding on erasure)."""

from wegweiser.common.migrations import shared

revision = "5b1e9c0d7a21"
down_revision = "a7c3e2d15b40"


def upgrade() -> None:
    shared.create_person_keys()


def downgrade() -> None:
    shared.drop_tables("person_keys")
