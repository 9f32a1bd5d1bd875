"""Person keys: the data keys of personal fields sealed on Kafka (crypto-shredding on erasure)."""

from wegweiser.common.migrations import shared

revision = "6c2f0a1e8b32"
down_revision = "3e50ef2df3ba"


def upgrade() -> None:
    shared.create_person_keys()


def downgrade() -> None:
    shared.drop_tables("person_keys")
