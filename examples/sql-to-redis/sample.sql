-- A small "legacy" table with 100,000 orders. Run as the user mqdb connects with, in its database:
--   psql -h 127.0.0.1 -U mqdb -d shop -f sample.sql
-- mqdb needs to own the table (it installs triggers) and to create mqdb_changelog in the current schema.
CREATE SCHEMA IF NOT EXISTS shop;
DROP TABLE IF EXISTS shop.orders;
CREATE TABLE shop.orders (
    id        bigint PRIMARY KEY,
    customer  text NOT NULL,
    qty       integer NOT NULL,
    price     numeric(12,2),
    paid      boolean NOT NULL DEFAULT false,
    placed_at timestamp(6) NOT NULL,
    ship_date date,
    ref       uuid,
    note      text,
    meta      jsonb
);
INSERT INTO shop.orders
SELECT g,
       'customer ' || (g % 997),
       1 + g % 50,
       CASE WHEN g % 7 = 0 THEN NULL ELSE round((g % 100000) / 100.0, 2) END,
       g % 2 = 0,
       timestamp '2024-01-01 00:00:00' + g * interval '61.25 seconds',
       CASE WHEN g % 5 = 0 THEN NULL ELSE date '2024-01-01' + g % 400 END,
       md5(g::text)::uuid,
       CASE WHEN g % 4 = 0 THEN 'gift wrap' END,
       jsonb_build_object('lines', g % 9, 'channel', CASE WHEN g % 3 = 0 THEN 'web' ELSE 'shop' END)
FROM generate_series(1, 100000) AS g;
