import time
from pathlib import Path

import jwt
import pytest

from wegweiser.common import devtokens
from wegweiser.common.auth import JwksValidator, Unauthorized
from wegweiser.common.settings import AUDIENCE, DEV_ISSUER


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    devtokens.ensure_key_pair(tmp_path)
    return tmp_path


def validator(key_dir: Path) -> JwksValidator:
    return JwksValidator(jwks_url=(key_dir / "jwks.json").as_uri(), issuer=DEV_ISSUER, audience=AUDIENCE)


def test_a_minted_token_yields_its_roles_and_scope(key_dir: Path) -> None:
    token = devtokens.mint(
        subject="u1",
        roles=["counsellor", "no_such_role"],
        key_dir=key_dir,
        provider_id="p1",
        ags=["08111000"],
    )
    principal = validator(key_dir).validate(token)
    assert principal.roles == {"counsellor"}
    assert principal.provider_id == "p1"
    assert principal.may_access_ags("08111000")
    assert not principal.may_access_ags("08115003")


@pytest.mark.parametrize(
    "claims",
    [{"exp": int(time.time()) - 10}, {"aud": "someone-else"}, {"iss": "https://evil.example"}],
    ids=["expired", "wrong-audience", "wrong-issuer"],
)
def test_expired_or_foreign_tokens_are_refused(key_dir: Path, claims: dict[str, object]) -> None:
    good = jwt.decode(
        devtokens.mint(subject="u", roles=["admin"], key_dir=key_dir), options={"verify_signature": False}
    )
    private = (key_dir / "private.pem").read_bytes()
    token = jwt.encode(good | claims, private, algorithm="RS256", headers={"kid": devtokens.KID})
    with pytest.raises(Unauthorized):
        validator(key_dir).validate(token)


def test_a_token_signed_by_another_key_is_refused(
    key_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other")
    token = devtokens.mint(subject="u", roles=["admin"], key_dir=other)
    with pytest.raises(Unauthorized):
        validator(key_dir).validate(token)
    with pytest.raises(Unauthorized):
        validator(key_dir).validate("not-a-jwt")


def test_a_replaced_key_pair_signs_the_next_token(key_dir: Path) -> None:
    """The parsed private key is kept per file version: a new key pair in the same place is used at once."""
    first = devtokens.mint(subject="u", roles=["admin"], key_dir=key_dir)
    validator(key_dir).validate(first)
    for name in ("private.pem", "jwks.json"):
        (key_dir / name).unlink()
    time.sleep(0.01)  # a new modification time, even on coarse clocks
    devtokens.ensure_key_pair(key_dir)
    second = devtokens.mint(subject="u", roles=["admin"], key_dir=key_dir)
    validator(key_dir).validate(second)
    with pytest.raises(Unauthorized):
        validator(key_dir).validate(first)
