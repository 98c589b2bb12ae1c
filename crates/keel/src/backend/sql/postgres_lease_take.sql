INSERT INTO {lock} AS l (id, holder, token, acquired_at, renewed_at, expires_at)
VALUES (1, $1, $2, clock_timestamp(), clock_timestamp(), clock_timestamp() + make_interval(secs => $3))
ON CONFLICT (id) DO UPDATE
   SET holder = EXCLUDED.holder, token = EXCLUDED.token, acquired_at = EXCLUDED.acquired_at,
       renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
 WHERE l.expires_at < clock_timestamp()
RETURNING token
