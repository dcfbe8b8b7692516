"""The blaze-infra policy pack: the fleet's conventions as pulumi-policy rules (see RULES.md)."""
