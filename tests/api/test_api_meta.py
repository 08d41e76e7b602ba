"""Well-known resources, health, and the OpenAPI document."""

from __future__ import annotations

from api_support import Api


def test_gpc_well_known(api: Api) -> None:
    response = api.client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    body = response.json()
    assert body["gpc"] is True
    assert set(body) == {"gpc", "lastUpdate"}
    assert len(body["lastUpdate"]) == 10


def test_healthz(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok", "storage": "ok"}


def test_openapi_declares_security_and_error_responses(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ServiceCredential"]["scheme"] == "bearer"
    assert schemes["UserToken"]["scheme"] == "bearer"
    collect = spec["paths"]["/v1/collect"]["post"]
    assert collect["security"] == [{"ServiceCredential": []}]
    assert {"200", "401", "403", "413", "422"} <= set(collect["responses"])
    assert (
        collect["requestBody"]["content"]["application/json"]["schema"]["properties"]["events"][
            "maxItems"
        ]
        == 10_000
    )
    subject = spec["paths"]["/v1/subjects/{subject_id}"]["get"]
    assert subject["security"] == [{"ServiceCredential": []}, {"UserToken": []}]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                assert "401" in operation["responses"], (method, path)


def test_issuer_comes_from_settings_never_from_the_host_header(client, charter) -> None:
    first = client.get("/.well-known/openid-configuration", headers={"Host": "attacker.invalid"})
    assert first.status_code == 200
    assert first.json()["issuer"] == charter.settings.issuer
    assert "attacker.invalid" not in first.text
    later = client.get("/.well-known/openid-configuration")
    assert later.json()["issuer"] == charter.settings.issuer
