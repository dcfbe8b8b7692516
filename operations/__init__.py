"""What an operator or a workflow runs against a stack or an account: the plan diff, the drift
report, the adoption of a live account and its audit."""
