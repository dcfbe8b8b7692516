"""Deploy-time logic: the promotion gate and the real engine's build."""
