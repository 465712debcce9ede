"""The OpenAPI schema is part of the contract: it must generate without warnings."""

from django.core.management import call_command


def test_openapi_schema_is_valid_and_warning_free(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file",
                 str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    for path in ["/api/engagements/{engagement_id}/hire/", "/api/engagements/{room_id}/events/",
                 "/api/projects/{project_id}/proposals/", "/api/advisors/{advisor_id}/"]:
        assert path in text
