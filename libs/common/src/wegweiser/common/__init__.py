"""What two or more Wegweiser services share: event contracts, envelope, outbox/inbox, plumbing."""
