"""The OpenAPI 3.1 document, generated from the route table and the schema, so it cannot drift."""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    SelectionSetNode,
    Undefined,
)

from elevatedpos import __version__
from elevatedpos.auth.scopes import ALL_SCOPES
from elevatedpos.errors import KINDS_BY_CODE
from elevatedpos.rest_compat.convert import collect_fields
from elevatedpos.rest_compat.operations import CompiledOperation
from elevatedpos.rest_compat.routes import RestRoute

_SCALARS: dict[str, dict[str, Any]] = {
    "String": {"type": "string"},
    "ID": {"type": "string", "format": "uuid"},
    "Int": {"type": "integer"},
    "Float": {"type": "number"},
    "Boolean": {"type": "boolean"},
    "DateTime": {"type": "string", "format": "date-time"},
    "Long": {"type": "integer", "description": "A whole number up to 2^53"},
    "JSON": {},
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 Problem Details",
    "required": ["type", "title", "status", "detail", "instance", "requestId"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "requestId": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _scalar(t: GraphQLScalarType) -> dict[str, Any]:
    return dict(_SCALARS.get(t.name, {"type": "string"}))


def _enum(t: GraphQLEnumType) -> dict[str, Any]:
    return {"type": "string", "enum": [name.lower() for name in t.values]}


def _nullable(schema: dict[str, Any], nullable: bool) -> dict[str, Any]:
    if not nullable:
        return schema
    if not schema:  # any JSON value, null already among them (`oneOf` would match twice)
        return schema
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    t = schema.get("type")
    if isinstance(t, str):
        return {**schema, "type": [t, "null"]}
    return {"oneOf": [schema, {"type": "null"}]}


class OpenAPIBuilder:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def input_schema(self, t: Any, nullable: bool = True) -> dict[str, Any]:
        if isinstance(t, GraphQLNonNull):
            return self.input_schema(t.of_type, nullable=False)
        if isinstance(t, GraphQLList):
            return _nullable({"type": "array", "items": self.input_schema(t.of_type)}, nullable)
        if isinstance(t, GraphQLEnumType):
            return _nullable(_enum(t), nullable)
        if isinstance(t, GraphQLScalarType):
            return _nullable(_scalar(t), nullable)
        assert isinstance(t, GraphQLInputObjectType)
        if t.name not in self.components:
            self.components[t.name] = {}  # placeholder first: input types may recurse
            props: dict[str, Any] = {}
            required: list[str] = []
            for name, f in t.fields.items():
                prop = self.input_schema(f.type)
                if f.description:
                    prop = {**prop, "description": f.description}
                props[name] = prop
                if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined:
                    required.append(name)
            body: dict[str, Any] = {
                "type": "object",
                "properties": props,
                "additionalProperties": False,
            }
            if required:
                body["required"] = required
            if t.description:
                body["description"] = t.description
            self.components[t.name] = body
        return _nullable({"$ref": f"#/components/schemas/{t.name}"}, nullable)

    def output_schema(
        self,
        t: Any,
        selection: SelectionSetNode | None,
        fragments: dict[str, FragmentDefinitionNode],
        nullable: bool = True,
    ) -> dict[str, Any]:
        if isinstance(t, GraphQLNonNull):
            return self.output_schema(t.of_type, selection, fragments, nullable=False)
        if isinstance(t, GraphQLList):
            items = self.output_schema(t.of_type, selection, fragments)
            return _nullable({"type": "array", "items": items}, nullable)
        if isinstance(t, GraphQLEnumType):
            return _nullable(_enum(t), nullable)
        if isinstance(t, GraphQLScalarType):
            return _nullable(_scalar(t), nullable)
        assert isinstance(t, (GraphQLObjectType, GraphQLInterfaceType)) and selection is not None
        props: dict[str, Any] = {}
        required: list[str] = []
        for node in collect_fields(selection, fragments, []):
            name = node.name.value
            if name.startswith("__") or name not in t.fields:
                continue
            key = node.alias.value if node.alias else name
            f = t.fields[name]
            prop = self.output_schema(f.type, node.selection_set, fragments)
            if f.description:
                prop = {**prop, "description": f.description}
            props[key] = prop
            if isinstance(f.type, GraphQLNonNull):
                required.append(key)
        return _nullable({"type": "object", "properties": props, "required": required}, nullable)

    def success_body(self, route: RestRoute, op: CompiledOperation) -> dict[str, Any]:
        fragments = {
            d.name.value: d
            for d in op.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        root_type = self.schema.get_root_type(op.definition.operation)
        assert root_type is not None
        root = next(s for s in op.definition.selection_set.selections if isinstance(s, FieldNode))
        field = root_type.fields[op.root_field]
        value = self.output_schema(field.type, root.selection_set, fragments)
        if route.result_field is not None:
            value = value["properties"][route.result_field]
        if route.list:
            nodes = value["properties"]["nodes"]
            return {
                "type": "object",
                "required": ["data", "meta"],
                "properties": {
                    "data": nodes,
                    "meta": {
                        "type": "object",
                        "required": ["limit", "nextCursor"],
                        "properties": {
                            "limit": {"type": "integer"},
                            "nextCursor": {"type": ["string", "null"]},
                        },
                    },
                },
            }
        if route.single_if is not None:  # one object when the body names `single_if`
            value = {"oneOf": [value["items"], value]}
        return {"type": "object", "required": ["data"], "properties": {"data": value}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _field_description(schema: GraphQLSchema, op: CompiledOperation) -> str | None:
    root_type = schema.get_root_type(op.definition.operation)
    return root_type.fields[op.root_field].description if root_type else None


def _oauth_problem(description: str) -> dict[str, Any]:
    problem = {
        "allOf": [
            {"$ref": "#/components/schemas/Problem"},
            {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string", "description": "RFC 6749's error code"},
                    "error_description": {"type": "string"},
                },
            },
        ]
    }
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": problem}},
    }


def _oauth_paths(scopes: list[str]) -> dict[str, Any]:
    """The two OAuth 2.0 endpoints (`web/oauth.py`), which no GraphQL operation backs."""
    text = {"type": "string"}
    query = [
        ("response_type", {"type": "string", "enum": ["code"]}, True),
        ("client_id", text, True),
        ("redirect_uri", {"type": "string", "format": "uri"}, False),
        ("scope", {"type": "string", "description": "Space-separated: " + " ".join(scopes)}, True),
        ("state", text, False),
        ("code_challenge", {"type": "string", "minLength": 43, "maxLength": 128}, True),
        ("code_challenge_method", {"type": "string", "enum": ["S256"]}, True),
    ]
    form = {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
            "code": text,
            "redirect_uri": text,
            "code_verifier": text,
            "refresh_token": text,
            "scope": text,
            "client_id": text,
            "client_secret": text,
        },
    }
    token = {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in", "refresh_token", "scope"],
        "properties": {
            "access_token": text,
            "token_type": {"type": "string", "enum": ["Bearer"]},
            "expires_in": {"type": "integer"},
            "refresh_token": text,
            "scope": text,
        },
    }
    return {
        "/api/v1/oauth/authorize": {
            "get": {
                "operationId": "oauthAuthorize",
                "summary": "A merchant grants a partner app access (OAuth 2.0, PKCE S256)",
                "description": (
                    "Called with the merchant user's Bearer token. Answers 302 to the"
                    " registered `redirect_uri` with `code` and `state`; the code is single-use"
                    " and lives 10 minutes. The granted scopes are the requested ones the user"
                    " holds. Errors before the redirect URI is known are problems; later ones"
                    " go to the redirect URI as RFC 6749 says."
                ),
                "tags": ["Auth"],
                "parameters": [
                    {"name": n, "in": "query", "required": r, "schema": sch} for n, sch, r in query
                ],
                "responses": {
                    "302": {"description": "To the redirect URI, with `code` and `state`"},
                    "400": _oauth_problem("Bad request (`error`: invalid_request, ...)"),
                    "401": _problem("Unauthorized"),
                    "403": _problem("A partner app's token cannot authorize apps"),
                    "429": _problem("Too Many Requests"),
                    "default": _problem("Unexpected error"),
                },
            }
        },
        "/api/v1/oauth/revoke": {
            "post": {
                "operationId": "oauthRevoke",
                "summary": "A partner app ends its grant (RFC 7009)",
                "description": (
                    "Form-encoded `token` (an access or refresh token of the grant) and an"
                    " optional `token_type_hint`, with the client's credentials as at /token."
                    " The whole grant ends: its refresh family and its access tokens. An unknown"
                    " or expired token is 200 too, as RFC 7009 says."
                ),
                "tags": ["Auth"],
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["token"],
                                "properties": {
                                    "token": text,
                                    "token_type_hint": {
                                        "type": "string",
                                        "enum": ["access_token", "refresh_token"],
                                    },
                                    "client_id": text,
                                    "client_secret": text,
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "Revoked (or nothing to revoke)"},
                    "400": _oauth_problem("invalid_request, invalid_grant, ..."),
                    "401": _oauth_problem("invalid_client"),
                    "default": _problem("Unexpected error"),
                },
            }
        },
        "/api/v1/oauth/token": {
            "post": {
                "operationId": "oauthToken",
                "summary": "OAuth 2.0 token exchange (authorization_code / refresh_token)",
                "description": (
                    "RFC 6749, form-encoded. The client authenticates with HTTP Basic"
                    " (`client_secret_basic`) or `client_id` and `client_secret` in the form"
                    " (`client_secret_post`). Refresh tokens rotate; a spent one presented"
                    " again ends the grant."
                ),
                "tags": ["Auth"],
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {"application/x-www-form-urlencoded": {"schema": form}},
                },
                "responses": {
                    "200": {
                        "description": "Tokens",
                        "content": {"application/json": {"schema": token}},
                    },
                    "400": _oauth_problem("invalid_request, invalid_grant, invalid_scope, ..."),
                    "401": _oauth_problem("invalid_client"),
                    "default": _problem("Unexpected error"),
                },
            }
        },
    }


def build_openapi(
    schema: GraphQLSchema,
    routes: tuple[RestRoute, ...],
    ops: dict[str, CompiledOperation],
    scopes: dict[str, str | None],
) -> dict[str, Any]:
    """The whole document; `scopes` maps an operation name to the scope its field demands."""
    builder = OpenAPIBuilder(schema)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        op = ops[route.operation]
        item: dict[str, Any] = {
            "operationId": route.operation[0].lower() + route.operation[1:],
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": [],
            "responses": {},
        }
        description = _field_description(schema, op)
        scope = scopes.get(route.operation)
        notes = [description] if description else []
        if scope:
            notes.append(f"Requires the `{scope}` scope.")
        notes.append(f"GraphQL: `{op.root_field}`.")
        item["description"] = " ".join(notes)
        for name in re.findall(r"{(\w+)}", route.path):
            item["parameters"].append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                }
            )
        for param, var_path in route.query_params.items():
            param_schema = builder.input_schema(op.variable_type(var_path), nullable=False)
            if param == "limit":
                param_schema = {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}
            item["parameters"].append(
                {"name": param, "in": "query", "required": False, "schema": param_schema}
            )
        if route.idempotent:
            item["parameters"].append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Replays the first response for 24 h; the same key with another body is 422"
                    ),
                    "schema": {"type": "string", "maxLength": 255},
                }
            )
        if route.if_match:
            item["parameters"].append(
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "The quoted version from ETag; a stale one is 412",
                }
            )
        if route.body:
            item["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": builder.input_schema(op.variable_types["input"], nullable=False)
                    }
                },
            }
        if route.no_content:
            item["responses"][str(route.status)] = {"description": "Done; no body"}
        else:
            content = {"application/json": {"schema": builder.success_body(route, op)}}
            statuses = {route.status: "Success"}
            if route.created_flag is not None:
                statuses = {route.status: "Created", 200: "Updated an existing one"}
            for status, description in statuses.items():
                item["responses"][str(status)] = {"description": description, "content": content}
        codes = ["400", "422"] if route.body or route.query_params else []
        if not route.public:
            codes += ["401", "403", "429"]
        if "{" in route.path:
            codes.append("404")
        if route.if_match:
            codes.append("412")
        if route.public and route.path.endswith("/login"):
            codes += ["401", "429"]
        for code in sorted(set(codes)):
            kind = next(k for k in KINDS_BY_CODE.values() if k.status == int(code))
            item["responses"][code] = _problem(kind.title)
        item["responses"]["default"] = _problem("Unexpected error")
        if route.public:
            item["security"] = []
        paths.setdefault(route.path, {})[route.method.lower()] = item
    paths.update(_oauth_paths(sorted(ALL_SCOPES)))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ElevatedPOS API",
            "version": __version__,
            "description": (
                "REST bridge over the ElevatedPOS GraphQL schema. Money is integer minor units;"
                " errors are RFC 9457 problems."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": builder.components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "partnerOAuth": {
                    "type": "oauth2",
                    "description": "Partner apps: authorization code with PKCE (S256)",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": "/api/v1/oauth/authorize",
                            "tokenUrl": "/api/v1/oauth/token",
                            "refreshUrl": "/api/v1/oauth/token",
                            "scopes": {s: f"The {s} scope" for s in sorted(ALL_SCOPES)},
                        }
                    },
                },
            },
        },
        "security": [{"bearerAuth": []}],
    }
