-- The damaged copy `dst` of `src`: gap and lost rows missing, stale rows 1.00 more and 30 days older.
DROP DATABASE IF EXISTS dst;
CREATE DATABASE dst CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE TABLE dst.events LIKE src.events;
INSERT INTO dst.events
SELECT e.id, e.account_id, e.kind, e.payload, IF(d.kind = 'stale', COALESCE(e.amount, 0) + 1.00, e.amount), e.created_at,
  IF(d.kind = 'stale', e.updated_at - INTERVAL 30 DAY, e.updated_at)
FROM src.events e LEFT JOIN bench.damage d ON d.id = e.id
WHERE d.kind IS NULL OR d.kind = 'stale';
