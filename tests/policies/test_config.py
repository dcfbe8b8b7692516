"""Reading policies/<stack>.json the way the Pulumi CLI does, and refusing what it would ignore."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator
from pulumi_policy import EnforcementLevel

from policies.config import file_schema, parse_pack_config, properties_schema, read_pack_config
from policies.pack import WAIVED_FINDINGS, pack_policies
from policies.registry import RULE_IDS
from stacks.errors import InputError
from tests.policies.plans import PACK_DIR
from tests.policies.sdk import context

POLICIES = pack_policies(context())
MANDATORY, ADVISORY, DISABLED = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY, EnforcementLevel.DISABLED


def levels(stack: str) -> dict[str, EnforcementLevel]:
    settings = read_pack_config(PACK_DIR / f"{stack}.json", f"policies/{stack}.json", POLICIES)
    return {name: setting.level for name, setting in settings.items()}


def test_prod_makes_every_rule_mandatory_but_unused_data() -> None:
    assert levels("prod") == {
        **{rule: MANDATORY for rule in RULE_IDS},
        "blaze-data-unused": ADVISORY,
        WAIVED_FINDINGS: ADVISORY,
    }


def test_staging_keeps_most_rules_advisory() -> None:
    staging = levels("staging")
    assert {rule for rule, level in staging.items() if level is MANDATORY} == {
        "blaze-naming-stack-pattern", "blaze-binding-same-stack", "blaze-worker-no-plaintext-secrets",
    }
    assert staging["blaze-data-protected"] is DISABLED
    assert sum(level is ADVISORY for level in staging.values()) > len(staging) / 2


def test_a_policy_entry_overrides_all_and_keeps_its_properties() -> None:
    text = json.dumps({
        **json.loads((PACK_DIR / "prod.json").read_text()),
        "all": "advisory",
        "blaze-worker-compatibility-date": {"enforcementLevel": "disabled", "maxAgeDays": 30},
    })
    settings = parse_pack_config(text, "custom.json", POLICIES)
    assert settings["blaze-naming-stack-pattern"].level is ADVISORY
    assert settings["blaze-worker-compatibility-date"].level is DISABLED
    assert settings["blaze-worker-compatibility-date"].properties == {"maxAgeDays": 30}


def _prod_with(**changes: object) -> str:
    document = json.loads((PACK_DIR / "prod.json").read_text())
    document.update(changes)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "bad.json: json: line 1, column 2: Expecting property name"),
        ("[]", "bad.json: json: -: must be an object of policy names"),
        (_prod_with(**{"blaze-nameing-stack-pattern": "advisory"}), "bad.json: blaze-nameing-stack-pattern: -: no policy of this name"),
        (_prod_with(all="strict"), "bad.json: all: enforcementLevel: 'strict' is not one of advisory, disabled, mandatory"),
        (_prod_with(all="remediate"), "bad.json: all: enforcementLevel: 'remediate' is not one of"),
        (_prod_with(all={"enforcementLevel": "mandatory", "maxAgeDays": 3}), "bad.json: all: maxAgeDays: 'all' takes only"),
        (_prod_with(**{"blaze-worker-compatibility-date": {"maxAgeDays": 365, "maxAge": 3}}),
         "bad.json: blaze-worker-compatibility-date: maxAge: unknown property"),
        (_prod_with(**{"blaze-worker-compatibility-date": {"maxAgeDays": "a year"}}),
         "bad.json: blaze-worker-compatibility-date: maxAgeDays: 'a year' is not of type 'integer'"),
        (_prod_with(**{"blaze-worker-cron-limits": {"maxSchedulesPerWorker": 3, "minIntervalMinutes": 0}}),
         "bad.json: blaze-worker-cron-limits: minIntervalMinutes: 0 is less than the minimum of 1"),
        (_prod_with(**{"blaze-r2-cors-restricted": {"allowedMethods": ["GET", "PATCH"], "allowWildcardOrigin": False}}),
         "bad.json: blaze-r2-cors-restricted: allowedMethods.1: 'PATCH' is not one of"),
        (_prod_with(**{"blaze-naming-stack-pattern": {"namePattern": "^blaze-(prod$"}}),
         "bad.json: blaze-naming-stack-pattern: namePattern: Value error, '^blaze-(prod$' is not a regular expression"),
        (_prod_with(**{"blaze-worker-compatibility-date": "mandatory"}),
         "bad.json: blaze-worker-compatibility-date: maxAgeDays: 'maxAgeDays' is a required property"),
        (_prod_with(**{"blaze-data-protected": {"strict": True}}),
         "bad.json: blaze-data-protected: strict: this policy takes no properties"),
        (_prod_with(**{WAIVED_FINDINGS: {"enforcementLevel": "advisory", "quiet": True}}),
         f"bad.json: {WAIVED_FINDINGS}: quiet: this policy takes no properties"),
        (_prod_with(**{WAIVED_FINDINGS: "mandatory"}), f"bad.json: {WAIVED_FINDINGS}: enforcementLevel: must be 'advisory'"),
        (_prod_with(**{"blaze-data-unused": 3}), "bad.json: blaze-data-unused: -: must be an enforcement level or an object"),
    ],
    ids=[
        "malformed json", "not an object", "unknown policy", "unknown level", "remediate", "properties on all",
        "unknown property", "mistyped property", "below the minimum", "not in the enumeration", "not a regex",
        "missing property", "properties on a rule without config",
        "properties on the waived findings report", "waived findings enforced", "neither level nor object",
    ],
)
def test_a_wrong_config_is_an_error_naming_the_file_the_policy_and_the_field(text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_pack_config(text, "bad.json", POLICIES)
    assert str(caught.value).startswith(expected), str(caught.value)


def test_an_unreadable_config_file_is_an_error(tmp_path) -> None:
    with pytest.raises(InputError, match=r"^missing\.json: file: -: cannot be read"):
        read_pack_config(tmp_path / "missing.json", "missing.json", POLICIES)


def test_the_properties_are_checked_against_the_schema_each_policy_emits_to_the_cli() -> None:
    # The engine reads config_schema from the running pack and validates the file with it, so
    # the offline reader must use that same schema, and it must be one a validator accepts.
    Draft7Validator.check_schema(file_schema(POLICIES))
    for policy in POLICIES:
        schema = properties_schema(policy)
        Draft7Validator.check_schema(schema)
        if policy.config_schema is None:
            assert "properties" not in schema, policy.name
        else:
            assert schema["properties"] is policy.config_schema.properties, policy.name
            assert schema.get("required") == policy.config_schema.required, policy.name
