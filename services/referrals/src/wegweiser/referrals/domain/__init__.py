"""Referrals' domain: catalogue, routing, the referral lifecycle and working-day deadlines. Pure: no I/O."""
