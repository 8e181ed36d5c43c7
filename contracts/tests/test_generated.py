"""The generated documents: up to date, valid, and agreeing with the schemas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from contracts import catalogue, examples, generate
from contracts.tests.cases import ALL_VERSIONS, ids, load_fields

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "contracts" / "generated"


def validator(name: str, version: int) -> Draft202012Validator:
    document = json.loads((GENERATED / f"jsonschema/{name}.v{version}.json").read_text())
    return Draft202012Validator(document, format_checker=FormatChecker())


def example_body(name: str, version: int) -> dict:
    return examples.example_event(name, version).to_dict()


def test_the_committed_files_are_up_to_date():
    result = subprocess.run(
        [sys.executable, "-m", "contracts.generate", "--check"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The generator pointed at a scratch folder, freshly written."""
    monkeypatch.setattr(generate, "GENERATED", tmp_path)
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    return tmp_path


def test_check_fails_on_a_stale_file(scratch, capsys):
    target = scratch / "jsonschema" / "SessionHeld.v2.json"
    target.write_text(target.read_text().replace('"maximum": 120', '"maximum": 180'))
    capsys.readouterr()
    assert generate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "stale" in err and "SessionHeld.v2.json" in err
    assert "run `python -m contracts.generate`" in err


def test_check_fails_on_a_missing_or_obsolete_file(scratch, capsys):
    (scratch / "asyncapi.yaml").unlink()
    (scratch / "jsonschema" / "SessionHeld.v9.json").write_text("{}")
    capsys.readouterr()
    assert generate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "missing" in err and "asyncapi.yaml" in err
    assert "obsolete" in err and "SessionHeld.v9.json" in err
    assert generate.main([]) == 0  # writing repairs both
    assert not (scratch / "jsonschema" / "SessionHeld.v9.json").exists()
    assert generate.main(["--check"]) == 0


@pytest.mark.parametrize(("name", "version"), ALL_VERSIONS, ids=ids(ALL_VERSIONS))
def test_each_json_schema_is_valid_and_accepts_its_example(name, version):
    check = validator(name, version)
    Draft202012Validator.check_schema(check.schema)
    assert check.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    check.validate(example_body(name, version))


@pytest.mark.parametrize(("name", "version"), ALL_VERSIONS, ids=ids(ALL_VERSIONS))
def test_each_json_schema_refuses_what_the_catalogue_refuses(name, version):
    check = validator(name, version)
    for key, field in load_fields(name, version).items():
        if field.required:
            event = example_body(name, version)
            del event["data"][key]
            assert not check.is_valid(event), f"missing {key}"
    event = example_body(name, version)
    event["data"]["surprise"] = 1
    assert not check.is_valid(event)
    event = example_body(name, version)
    event["type"] = event["type"][:-1] + "9"
    assert not check.is_valid(event)
    event = example_body(name, version)
    del event["subject"]
    assert not check.is_valid(event)


@pytest.mark.parametrize(
    ("name", "version", "field", "value"),
    [("SessionHeld", 2, "duration_minutes", 59), ("SessionHeld", 2, "duration_minutes", 121),
     ("SessionHeld", 2, "modality", "phone"), ("MeetingPlanRecorded", 1, "interval_days", 46),
     ("NoteAdded", 1, "text", "plain text"), ("MemberRegistered", 1, "email", "a@b.org"),
     ("MemberExcluded", 1, "permanent", False), ("PairEnded", 1, "ended_by", 42)],
)
def test_the_json_schemas_carry_the_rules(name, version, field, value):
    event = example_body(name, version)
    event["data"][field] = value
    assert not validator(name, version).is_valid(event)
    with pytest.raises(catalogue.ContractError):
        catalogue.validate(name, version, event["data"])


def test_the_asyncapi_document():
    document = yaml.safe_load((GENERATED / "asyncapi.yaml").read_text())
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    assert sorted(c["address"] for c in channels.values()) == [
        "identity.events", "matching.events", "moderation.events", "sessions.events"
    ]
    messages = document["components"]["messages"]
    assert set(messages) == {f"{n}.v{v}" for n, v in ALL_VERSIONS}
    for channel in channels.values():
        context = channel["address"].split(".")[0]
        assert "Kafka key = the aggregate id" in channel["description"]
        assert {m.rsplit(".", 1)[0] for m in channel["messages"]} == set(catalogue.names(context))
        for ref in channel["messages"].values():
            assert ref["$ref"].removeprefix("#/components/messages/") in messages
    for message_id, message in messages.items():
        target = GENERATED / message["payload"]["schema"]["$ref"]
        assert target.exists(), message_id
        assert "aggregate id" in message["bindings"]["kafka"]["key"]["description"]
        name, version = message_id.rsplit(".v", 1)
        validator(name, int(version)).validate(message["examples"][0]["payload"])
    for operation in document["operations"].values():
        channel_id = operation["channel"]["$ref"].removeprefix("#/channels/")
        assert operation["action"] == "send"
        for ref in operation["messages"]:
            prefix = f"#/channels/{channel_id}/messages/"
            assert ref["$ref"].startswith(prefix)
            assert ref["$ref"].removeprefix(prefix) in channels[channel_id]["messages"]
    superseded = messages["SessionHeld.v1"]
    assert "Superseded by v2" in superseded["description"]
