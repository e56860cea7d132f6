"""Ids read back from SQLite's text columns are the same `uuid.UUID`s, parsed faster."""

from __future__ import annotations

import copy
import pickle
import uuid

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, select
from sqlalchemy.dialects import postgresql

from elevatedpos.db.types import Uuid, uuid_from_hex


@pytest.mark.parametrize("made", [uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)])
def test_a_stored_id_reads_back_as_the_uuid_it_was(made):
    for text in (made.hex, made.hex.upper(), str(made)):
        got = uuid_from_hex(text)
        assert type(got) is uuid.UUID
        assert got == made and hash(got) == hash(made) and str(got) == str(made)
        assert got.version == made.version and got.is_safe is uuid.SafeUUID.unknown
        assert pickle.loads(pickle.dumps(got)) == made and copy.copy(got) == made
        assert {got: 1}[made] == 1


def test_nothing_and_uuids_pass_through_and_junk_is_refused_as_uuid_refuses_it():
    made = uuid.uuid4()
    assert uuid_from_hex(None) is None
    assert uuid_from_hex(made) is made
    for junk in ("z" * 32, "not-an-id", "12345"):
        with pytest.raises(ValueError):
            uuid.UUID(junk)
        with pytest.raises(ValueError):
            uuid_from_hex(junk)


def test_sqlite_columns_use_it_and_postgresql_keeps_its_native_type():
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Uuid(), primary_key=True))
    table.metadata.create_all(engine)
    made = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(table.insert(), {"id": made})
        got = conn.execute(select(table.c.id)).scalar_one()
    assert type(got) is uuid.UUID and got == made
    assert Uuid().result_processor(engine.dialect, None) is uuid_from_hex
    native = Uuid().dialect_impl(postgresql.asyncpg.dialect())
    assert native.result_processor(postgresql.asyncpg.dialect(), None) is not uuid_from_hex
