-- The configuration table headquarters publishes to the edges ("default" is a reserved word: quoted).
CREATE SCHEMA IF NOT EXISTS "default";
CREATE TABLE IF NOT EXISTS "default".configs (id bigint PRIMARY KEY, name text NOT NULL, value text);
INSERT INTO "default".configs VALUES (1, 'sample-rate', '10ms') ON CONFLICT (id) DO NOTHING;
