CREATE TABLE IF NOT EXISTS {lock} (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    holder text NOT NULL,
    token text NOT NULL,
    acquired_at timestamptz NOT NULL,
    renewed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
)
