"""The blaze-infra policy pack: the fleet's conventions as pulumi-policy rules (see RULES.md),
and its offline check of a plan file (`python -m policies.check`)."""
