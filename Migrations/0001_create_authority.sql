-- The tenant: a foreigners' authority or citizens' office. Every other table carries authority_id
-- (DESIGN §8: the distribution column if the installation is ever sharded with Citus).
CREATE TABLE authority (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);
