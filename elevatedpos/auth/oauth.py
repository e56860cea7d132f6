"""OAuth 2.0 for partner apps: Authlib's authorization server (authorization code with PKCE
S256, refresh tokens with rotation), over the async database.

Authlib's server is synchronous and our database is not, so a request is served in three
steps (`web/oauth.py`): read what it names (`OAuthState`: the client, the code or refresh
token, the user); run Authlib's grant on those objects, which validates everything and
records what to write; then write that in one transaction (`oauth_store.py`) whose
conditional updates settle races. A server is built per request, so the prefetched state
is never shared.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
    grants,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.datastructures import FormData, Headers, QueryParams

from elevatedpos.auth.scopes import ALL_SCOPES, scopes_for_role
from elevatedpos.auth.tokens import TokenIssuer
from elevatedpos.db.models import AuthSession, Integration, OAuthCode, User

CODE_TTL_SECONDS = 600
# Authlib puts some parameters into error descriptions, which RFC 6749 limits to these
# characters (and Authlib refuses to build otherwise); RFC 6749's syntax for every
# parameter but `state` (any VSCHAR) stays inside them.
_SAFE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_VSCHAR = re.compile(r"[\x20-\x7e]*")
MAX_PARAMETER = 2000
GRANT_TYPES = ("authorization_code", "refresh_token")


def digest(secret: str) -> str:
    """How client secrets and authorization codes are kept: their SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_parameters(items: list[tuple[str, str]]) -> str | None:
    """Why these request parameters break RFC 6749's syntax, or None when they do not."""
    for name, value in items:
        if len(value) > MAX_PARAMETER:
            return f"'{_shown(name)}' is longer than {MAX_PARAMETER} characters"
        if not (_VSCHAR if name == "state" else _SAFE).fullmatch(value):
            return f"'{_shown(name)}' has characters RFC 6749 does not allow there"
    return None


def _shown(name: str) -> str:
    return name if _SAFE.fullmatch(name) and len(name) <= 40 else "a parameter"


def granted_scopes(requested: str | None, role: str) -> frozenset[str]:
    """What a user of `role` can grant of the requested scopes (space-separated)."""
    return frozenset((requested or "").split()) & scopes_for_role(role)


class Client(ClientMixin):
    """An active integration seen as Authlib's confidential client."""

    def __init__(self, row: Integration) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris = self.row.redirect_uris or []
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        return scope or None  # no scope requested: invalid_scope (a partner names what it needs)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in (self.row.redirect_uris or [])

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(digest(client_secret), self.row.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class Code(AuthorizationCodeMixin):
    def __init__(self, row: OAuthCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str | None:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class Grant(TokenMixin):
    """A partner's grant (its session) as Authlib's token: with the refresh token presented
    (its id, and whether it was spent), or, at revocation, whichever token named it."""

    def __init__(self, session: AuthSession, token_id: uuid.UUID, spent: bool) -> None:
        self.session = session
        self.token_id = token_id
        self.spent = spent

    def check_client(self, client: Client) -> bool:
        return self.session.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.session.scope or ""


@dataclass
class NewCode:
    code: str
    scope: str
    redirect_uri: str | None
    code_challenge: str
    code_challenge_method: str


@dataclass
class NewSession:
    session_id: uuid.UUID
    token_id: uuid.UUID
    scope: str
    fresh: bool  # a new family (code exchange), or the next token of one (refresh)


@dataclass
class OAuthState:
    """What one request names, read before Authlib runs; and what Authlib decided to write."""

    now: datetime
    client: Client | None = None
    user: User | None = None
    code: Code | None = None
    refresh_token: str | None = None
    refresh: Grant | None = None
    new_code: NewCode | None = None
    issued: NewSession | None = None
    spend_code: Code | None = None
    spend_refresh: Grant | None = None
    # Sessions to revoke: replayed grants, or one its client revokes (RFC 7009).
    revoke: list[uuid.UUID] = field(default_factory=list)


class _Payload(OAuth2Payload):
    def __init__(self, params: QueryParams | FormData) -> None:
        self._params = params

    @property
    def data(self) -> dict[str, Any]:
        return dict(self._params)

    @property
    def datalist(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        for key, value in self._params.multi_items():
            found.setdefault(key, []).append(value)
        return found


class StarletteRequest(OAuth2Request):
    """Authlib's view of a Starlette request: its query (authorize) or form (token)."""

    def __init__(
        self, method: str, uri: str, headers: Headers, query: QueryParams, form: FormData
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._query = query
        self._form = form
        self.payload = _Payload(form if method == "POST" else query)

    @property
    def args(self) -> QueryParams:
        return self._query

    @property
    def form(self) -> FormData:
        return self._form


class Pkce(CodeChallenge):
    """PKCE with S256 only, required of every client (RFC 9700), confidential ones too."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def state(self) -> OAuthState:
        return self.server.state  # type: ignore[no-any-return]

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()
        user = self.request.user
        scope = self.request.payload.scope
        if scope and user is not None and not granted_scopes(scope, user.role):
            raise InvalidScopeError("The signed-in user holds none of the requested scopes")

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.state.new_code = NewCode(
            code=code,
            scope=" ".join(sorted(granted_scopes(request.scope, request.user.role))),
            redirect_uri=request.payload.redirect_uri,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = self.state.code
        if found is None or found.row.integration_id != client.row.id:
            return None
        if not hmac.compare_digest(found.row.code_hash, digest(code)):
            return None
        if found.row.used_at is not None:
            # Presented again: deny, and end what its first exchange started (RFC 6749 4.1.2).
            if found.row.session_id is not None:
                self.state.revoke.append(found.row.session_id)
            return None
        if found.row.expires_at <= self.state.now:
            return None
        return found

    def delete_authorization_code(self, authorization_code: Code) -> None:
        self.state.spend_code = authorization_code

    def authenticate_user(self, authorization_code: Code) -> User | None:
        user = self.state.user
        return user if user is not None and user.id == authorization_code.row.user_id else None


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def state(self) -> OAuthState:
        return self.server.state  # type: ignore[no-any-return]

    def authenticate_refresh_token(self, refresh_token: str) -> Grant | None:
        state = self.state
        grant = state.refresh
        if grant is None or refresh_token != state.refresh_token:
            return None
        if grant.spent:
            # A spent token again: its family may be stolen, so it ends (as at /auth/refresh).
            if grant.check_client(self.request.client):
                state.revoke.append(grant.session.id)
            return None
        return grant

    def authenticate_user(self, refresh_token: Grant) -> User | None:
        user = self.state.user
        return user if user is not None and user.id == refresh_token.session.user_id else None

    def revoke_old_credential(self, refresh_token: Grant) -> None:
        self.state.spend_refresh = refresh_token


class Revocation(RevocationEndpoint):
    """RFC 7009: a partner ends its grant with either of its tokens (the whole grant goes,
    refresh family and access tokens alike)."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def state(self) -> OAuthState:
        return self.server.state  # type: ignore[no-any-return]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Grant | None:
        return self.state.refresh

    def revoke_token(self, token: Grant, request: OAuth2Request) -> None:
        self.state.revoke.append(token.session.id)


class Server(AuthorizationServer):
    """One request's authorization server: Authlib's grants over `state`."""

    def __init__(self, issuer: TokenIssuer, state: OAuthState) -> None:
        super().__init__(scopes_supported=sorted(ALL_SCOPES))
        self.issuer = issuer
        self.state = state
        self.register_grant(CodeGrant, [Pkce(required=True)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_token_generator("default", self._tokens)

    def query_client(self, client_id: str) -> Client | None:
        client = self.state.client
        return client if client is not None and client.get_client_id() == client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to do here: `_tokens` recorded the session, written after Authlib returns."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hook for framework signals; this server has no listeners."""

    def handle_error_response(self, request: OAuth2Request, error: OAuth2Error) -> Any:
        # Authlib leaves these two without a useful description (or with a wrong one).
        if isinstance(error, InvalidClientError) and request.method == "POST":
            error.status_code = 401  # one answer for every failed client authentication
        if isinstance(error, UnsupportedResponseTypeError):
            error.description = "response_type must be code"
        elif isinstance(error, UnsupportedGrantTypeError):
            error.description = "grant_type must be authorization_code or refresh_token"
        return super().handle_error_response(request, error)

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def _tokens(
        self,
        grant_type: str,
        client: Client,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None
        if grant_type == "refresh_token" and not (scope or "").split():
            scope = self.state.refresh.session.scope if self.state.refresh else None  # blank
        # A grant never outlives what its user may do: a demoted user's partners lose scopes.
        scopes = granted_scopes(scope, user.role)
        if not scopes:
            raise InvalidGrantError("The user who granted access no longer holds its scopes")
        if grant_type == "refresh_token":
            assert self.state.refresh is not None
            session_id, fresh = self.state.refresh.session.id, False
        else:
            session_id, fresh = uuid.uuid4(), True
        token_id = uuid.uuid4()
        access, _ = self.issuer.access_token(
            user_id=user.id,
            org_id=user.org_id,
            scopes=scopes,
            session_id=session_id,
            client_id=client.get_client_id(),
        )
        refresh = self.issuer.refresh_token(
            user_id=user.id, session_id=session_id, token_id=token_id
        )
        scope_text = " ".join(sorted(scopes))
        self.state.issued = NewSession(session_id, token_id, scope_text, fresh)
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.issuer.access_ttl,
            "refresh_token": refresh,
            "scope": scope_text,
        }
