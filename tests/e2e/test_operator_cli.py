"""The operator's command lines, run as an operator would, against the running stack."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from services.gateway.client import PartnerApi

ROOT = Path(__file__).resolve().parents[2]


def cli(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def test_the_operator_registers_an_organisation_whose_key_works_at_the_gateway(operator):
    done = cli("services.identity.cli", "register-organisation", "Lycée Curie", "--kind",
               "school", "--contact-email", "direction@example.org", "--open")
    assert done.returncode == 0, done.stderr
    key = next(w for w in done.stdout.split() if w.startswith("mk_"))
    organisation = PartnerApi(key).get("/v1/organisation").ok()
    assert (organisation["matching_scope"], organisation["name"]) == ("open", "Lycée Curie")
    assert done.stderr.strip() == "", "nothing but the answer on the operator's terminal"

    more = cli("services.identity.cli", "issue-api-key", organisation["organisation_id"])
    assert more.returncode == 0, more.stderr
    second = next(w for w in more.stdout.split() if w.startswith("mk_"))
    assert PartnerApi(second).get("/v1/organisation").status == 200


def test_a_bad_argument_is_one_line_naming_the_field():
    done = cli("services.identity.cli", "register-organisation", "X", "--kind", "school",
               "--contact-email", "not-an-email")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["identity: Invalid contact_email. "
                                                "(contact_email)"]
    unknown = cli("services.identity.cli", "issue-api-key", str(uuid.uuid4()))
    assert unknown.returncode == 2 and "organisation" in unknown.stderr.lower()
