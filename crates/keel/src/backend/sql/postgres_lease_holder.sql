SELECT holder,
       to_char(acquired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       extract(epoch FROM expires_at - clock_timestamp())::float8
FROM {lock}
WHERE id = 1
