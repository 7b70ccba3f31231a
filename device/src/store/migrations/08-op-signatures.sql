-- Evidence: each op's Ed25519 signature over its canonical JSON and the link to the device's previous
-- signed op, made when the op is queued and sent with it. The key itself and the chain's head are in meta.
ALTER TABLE outbox ADD COLUMN sig TEXT;
ALTER TABLE outbox ADD COLUMN prev TEXT;
