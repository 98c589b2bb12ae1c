UPDATE {lock}
   SET renewed_at = clock_timestamp(), expires_at = clock_timestamp() + make_interval(secs => $2)
 WHERE id = 1 AND token = $1
RETURNING token
