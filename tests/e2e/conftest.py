"""End-to-end tests: real HTTP to the running gateway, real services behind it.

``make test`` starts the whole stack first; run alone, these need ``make up`` and
fail loudly (never skip) when the gateway does not answer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from services.gateway.client import PartnerApi, default_base_url


@pytest.fixture(scope="session")
def operator() -> PartnerApi:
    url = default_base_url()
    try:
        health = requests.get(url + "/health", timeout=10)
    except requests.RequestException as exc:
        pytest.fail(f"the gateway does not answer at {url} ({exc}): run `make up` "
                    "(make test does it for you)", pytrace=False)
    if health.status_code != 200:
        pytest.fail(f"the gateway at {url} is not healthy: {health.status_code} {health.text}",
                    pytrace=False)
    return PartnerApi.operator(url)


@pytest.fixture
def new_organisation(operator: PartnerApi) -> Callable[..., PartnerApi]:
    """``new_organisation(matching_scope="own")``: a fresh partner, its own API key."""
    return operator.register_organisation


@pytest.fixture
def org(new_organisation: Callable[..., PartnerApi]) -> PartnerApi:
    return new_organisation()
