-- At most one active and one next key per algorithm family, whatever several nodes starting
-- at once (each generating its first keys) or two concurrent rotations try: the loser gets a
-- unique violation and reloads instead of leaving two signing keys.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE state = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';
