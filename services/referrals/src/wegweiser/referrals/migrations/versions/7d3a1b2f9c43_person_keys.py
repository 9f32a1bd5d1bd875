"""Person keys: the data keys of personal fields sealed on Kafka (crypto-shredding on erasure)."""

from wegweiser.common.migrations import shared

revision = "7d3a1b2f9c43"
down_revision = "e7a3c51f2b90"


def upgrade() -> None:
    shared.create_person_keys()


def downgrade() -> None:
    shared.drop_tables("person_keys")
