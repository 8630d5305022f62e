-- The example's tables: every table watched by notifierd needs a primary key.
CREATE TABLE IF NOT EXISTS forums (
    id serial PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS posts (
    id serial PRIMARY KEY,
    forum_id int NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
    title text NOT NULL
);
