"""The sessions API's schemas (``contracts.api.sessions``): R1, and strict requests.

R1: no field takes a price, a fee, an invoice or a payment, nor anything else of
the kind (the word list of the event catalogue's own R1 test). Every request
refuses an unknown field, naming it, so that a client sending ``price`` learns
that there is no such thing here.
"""

from __future__ import annotations

import inspect

import pytest
from marshmallow import Schema, ValidationError

from contracts.api import sessions as api
from contracts.api.base import Request
from contracts.tests.test_rules import r1_words, walk_field_names

SCHEMAS = [cls for _, cls in inspect.getmembers(api, inspect.isclass)
           if issubclass(cls, Schema) and cls.__module__ == api.__name__]
REQUESTS = [cls for cls in SCHEMAS if issubclass(cls, Request)]


def test_the_walk_sees_every_schema():
    assert len(REQUESTS) >= 12 and len(SCHEMAS) >= 25


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.__name__)
def test_r1_no_field_of_the_sessions_api_is_about_money(schema):
    names = list(walk_field_names(schema()))
    assert [n for n in names if r1_words(n)] == []
    assert r1_words(schema.__name__) == []


@pytest.mark.parametrize("schema", REQUESTS, ids=lambda s: s.__name__)
def test_every_request_refuses_an_unknown_field_naming_it(schema):
    with pytest.raises(ValidationError) as refused:
        schema().load({"price": 40})
    assert "price" in refused.value.messages
