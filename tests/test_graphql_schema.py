"""`schema.graphql` at the repo root is the exported SDL of the running schema."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

from elevatedpos.schema.root import schema

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "schema.graphql"


def running_sdl() -> str:
    return schema.as_str() + "\n"


def test_committed_schema_matches_the_running_schema():
    assert SCHEMA_FILE.is_file(), "schema.graphql is missing: run `elevatedpos export-schema`"
    committed = SCHEMA_FILE.read_text()
    expected = running_sdl()
    if committed != expected:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                "schema.graphql (committed)",
                "running schema",
            )
        )
        raise AssertionError(
            "schema.graphql differs from the running schema; run `elevatedpos export-schema` "
            f"and commit the result.\n{diff}"
        )


def test_export_schema_to_stdout_prints_the_same_sdl(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "elevatedpos.cli", "export-schema", "-o", "-"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == running_sdl()
    assert result.stdout == SCHEMA_FILE.read_text()
    # printing to stdout writes no file and touches no database
    assert list(tmp_path.iterdir()) == []


def test_the_sdl_names_the_contracts_location_api():
    sdl = running_sdl()
    for line in (
        "type Location implements Node {",
        "locations(first: Int",
        "createLocation(input: CreateLocationInput!): Location!",
        "updateLocation(id: ID!, input: UpdateLocationInput!, expectedVersion: Int",
        "node(id: ID!): Node",
    ):
        assert line in sdl, line
