"""Webhook delivery: signing, a circuit breaker per partner, and the background worker."""
